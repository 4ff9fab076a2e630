#include "compat/molecule_pages.hpp"

#include "core/choice_meaning.hpp"
#include "core/time_format.hpp"

namespace countersign {

Result<MoleculePages> MoleculePages::Load(const LinkPages& link_pages) {
  auto layout = LoadEmbeddedTemplate("layout.html");
  if (!layout.ok()) return std::move(layout).error();
  auto confirm = LoadEmbeddedTemplate("molecule_confirm.html");
  if (!confirm.ok()) return std::move(confirm).error();
  // The one-click links' state page: a heading, a notice and a hint.
  auto state = LoadEmbeddedTemplate("link_state.html");
  if (!state.ok()) return std::move(state).error();
  return MoleculePages(link_pages, std::move(layout).value(), std::move(confirm).value(),
                       std::move(state).value());
}

std::string MoleculePages::Document(std::string_view title, SafeHtml content) const {
  PageTemplate::Values v;
  v.Text("page_title", std::string(title)).Html("content", std::move(content));
  return layout_.Render(v).str();
}

std::string MoleculePages::Confirm(const Request& r, const MoleculeConfirmForm& form) const {
  const Choice* choice = r.FindChoice(form.choice);
  const std::string label = choice != nullptr ? ChoiceMeaning::Caption(*choice) : form.choice;
  const auto* reason = r.details.if_contains("reason");
  PageTemplate::Values v;
  v.Text("heading", label + " this action?")
      .Flag("high_risk", r.risk == "high")
      .Text("error", form.error)
      .Text("title", r.title)
      .Text("reason", reason && reason->is_string() ? std::string(reason->get_string()) : "")
      .Text("workspace", form.workspace)
      .Text("status", StatusName(r.status))
      .Text("requester", r.requester)
      .Text("deadline", FormatTime(r.deadline_at))
      .Text("id", r.id)
      .Text("csrf", form.csrf)
      .Flag("token_mode", form.token_mode)
      .Text("default_name", form.default_name)
      .Text("choice_style", choice != nullptr ? ChoiceMeaning::Style(*choice) : "default")
      .Text("choice_label", label);
  return Document(label + ": " + r.title, confirm_.Render(v));
}

std::string MoleculePages::Notice(std::string_view heading, std::string_view tone,
                                  std::string_view message, std::string_view hint) const {
  PageTemplate::Values v;
  v.Text("heading", std::string(heading))
      .Text("tone", std::string(tone))
      .Text("message", std::string(message))
      .Text("hint", std::string(hint));
  return Document(heading, state_.Render(v));
}

}  // namespace countersign
