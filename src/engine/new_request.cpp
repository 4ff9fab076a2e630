#include "engine/new_request.hpp"

#include "core/request_json.hpp"
#include "engine/field_reader.hpp"

namespace countersign {

Result<NewRequest> ParseNewRequest(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the request body must be a JSON object");
  const auto& o = body.get_object();
  FieldReader r(o);
  NewRequest in;
  CS_RETURN_IF_ERROR(r.String("action", in.action));
  CS_RETURN_IF_ERROR(r.String("description", in.title));
  CS_RETURN_IF_ERROR(r.String("title", in.title));
  CS_RETURN_IF_ERROR(r.Object("details", in.details));
  CS_RETURN_IF_ERROR(r.Object("arguments", in.arguments));
  CS_RETURN_IF_ERROR(r.String("kind", in.kind));
  if (const auto* choices = o.if_contains("choices"); choices && !choices->is_null()) {
    auto parsed = ChoicesFromJson(*choices);
    if (!parsed.ok()) return std::move(parsed).error();
    in.choices = std::move(parsed).value();
  }
  CS_RETURN_IF_ERROR(r.Strings("approvers", in.approvers));
  CS_RETURN_IF_ERROR(r.Integer("quorum", in.quorum));
  CS_RETURN_IF_ERROR(r.Integer("timeout_seconds", in.timeout_seconds));
  std::string on_timeout;
  CS_RETURN_IF_ERROR(r.String("on_timeout", on_timeout));
  if (!on_timeout.empty()) in.on_timeout = std::move(on_timeout);
  CS_RETURN_IF_ERROR(r.String("risk", in.risk));
  CS_RETURN_IF_ERROR(r.Strings("notify", in.notify));
  CS_RETURN_IF_ERROR(r.String("callback_url", in.callback_url));
  CS_RETURN_IF_ERROR(r.String("session", in.session));
  CS_RETURN_IF_ERROR(r.String("idempotency_key", in.idempotency_key));
  CS_RETURN_IF_ERROR(r.String("requester", in.requester));
  CS_RETURN_IF_ERROR(r.OptionalObject("response_schema", in.response_schema));
  return in;
}

Result<NewDecision> ParseNewDecision(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the decision body must be a JSON object");
  FieldReader r(body.get_object());
  NewDecision in;
  CS_RETURN_IF_ERROR(r.String("choice", in.choice));
  CS_RETURN_IF_ERROR(r.String("comment", in.comment));
  CS_RETURN_IF_ERROR(r.String("answer", in.answer));
  CS_RETURN_IF_ERROR(r.OptionalObject("arguments", in.arguments));
  CS_RETURN_IF_ERROR(r.OptionalObject("response", in.response));
  CS_RETURN_IF_ERROR(r.String("by", in.by));
  if (const auto* grant = body.get_object().if_contains("grant"); grant && !grant->is_null()) {
    auto parsed = ParseNewGrant(*grant);
    if (!parsed.ok()) return std::move(parsed).error();
    in.grant = std::move(parsed).value();
  }
  return in;
}

Result<NewGrant> ParseNewGrant(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("a grant must be a JSON object");
  FieldReader r(body.get_object());
  NewGrant in;
  CS_RETURN_IF_ERROR(r.String("action", in.action));
  CS_RETURN_IF_ERROR(r.String("scope", in.scope));
  CS_RETURN_IF_ERROR(r.String("session", in.session));
  std::optional<int64_t> ttl;
  CS_RETURN_IF_ERROR(r.Integer("ttl_seconds", ttl));
  in.ttl_seconds = ttl.value_or(0);
  return in;
}

}  // namespace countersign
