#include "http/decision_form.hpp"

#include "core/grant_option_text.hpp"

namespace countersign {

Result<NewDecision> DecisionFromForm(const Request& r, const Choice& choice, const FormData& form) {
  NewDecision input;
  input.choice = choice.id;
  if (choice.outcome == Outcome::kAnswered) {
    input.answer = FormField(form, "answer");
  } else {
    input.comment = FormField(form, "comment");
  }
  const bool fills = choice.outcome == Outcome::kApproved || choice.outcome == Outcome::kAnswered;
  if (!fills || !r.response_schema) return input;
  auto schema = ResponseSchema::Parse(*r.response_schema);
  if (!schema.ok()) {
    return Error::Internal("the stored response_schema of " + r.id + " does not parse");
  }
  auto response = ResponseForm::Read(schema.value(), form);
  if (!response.ok()) return std::move(response).error();
  input.response = std::move(response).value();
  return input;
}

Result<const GrantOption*> AddGrantFromForm(const Request& r, const Choice& choice,
                                            const FormData& form, NewDecision& input) {
  const std::string value = FormField(form, "grant");
  if (value.empty()) return static_cast<const GrantOption*>(nullptr);
  const GrantOption* option =
      choice.outcome == Outcome::kApproved ? FindGrantOption(r, value) : nullptr;
  if (option == nullptr) {
    return Error::Invalid("this request does not offer the standing approval '" + Echo(value) +
                          "'");
  }
  NewGrant terms;
  terms.scope = option->scope;
  terms.ttl_seconds = option->ttl.count();
  input.grant = std::move(terms);
  return option;
}

}  // namespace countersign
