#include "web/ui_audit_pages.hpp"

#include <algorithm>

#include "core/canonical_json.hpp"
#include "core/time_format.hpp"
#include "core/utf8_text.hpp"
#include "web/page_text.hpp"

namespace countersign {
namespace {

// An event's data as one line of JSON, cut at this many bytes (the request's page and the API
// have it whole).
constexpr size_t kDataShown = 300;

std::string Count(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

UiAuditPages::UiAuditPages(const UiPages& pages, std::vector<PageTemplate> templates)
    : pages_(&pages),
      log_(std::move(templates[0])),
      row_(std::move(templates[1])),
      verify_(std::move(templates[2])),
      verify_form_(std::move(templates[3])),
      fact_(std::move(templates[4])) {}

Result<UiAuditPages> UiAuditPages::Load(const UiPages& pages) {
  const char* names[] = {"ui_audit.html", "ui_audit_row.html", "ui_audit_verify.html",
                         "ui_verify_form.html", "detail_row.html"};
  std::vector<PageTemplate> parsed;
  for (const char* name : names) {
    auto loaded = LoadEmbeddedTemplate(name);
    if (!loaded.ok()) return std::move(loaded).error();
    parsed.push_back(std::move(loaded).value());
  }
  return UiAuditPages(pages, std::move(parsed));
}

std::string UiAuditPages::Sentence(const AuditVerifyState& chain) {
  if (!chain.started) return "Not verified since the server started.";
  if (chain.running) {
    return "Verifying: " + std::to_string(chain.checked) + " of " +
           Count(chain.total, "event", "events") + " checked.";
  }
  if (!chain.error.empty()) return "The last verification could not run: " + chain.error;
  const std::string scope =
      chain.full ? "the whole chain"
                 : "the events after #" + std::to_string(chain.from_seq) + ", verified before";
  if (!chain.ok) {
    return "Broken at event #" + std::to_string(chain.first_bad_seq) + ": " + chain.reason +
           ". Checked " + scope + " at " + HumanTime(chain.finished_at) + ".";
  }
  return "Intact up to event #" + std::to_string(chain.verified_to_seq) + ": " +
         Count(chain.events_checked, "event", "events") + " checked (" + scope + ") at " +
         HumanTime(chain.finished_at) + ".";
}

std::string UiAuditPages::Tone(const AuditVerifyState& chain) {
  if (!chain.started || chain.running) return "";
  if (!chain.error.empty()) return "warn";
  return chain.ok ? "ok" : "error";
}

SafeHtml UiAuditPages::VerifyForm(const UiViewer& viewer) const {
  PageTemplate::Values v;
  v.Text("base", pages_->base()).Text("csrf", viewer.csrf);
  return verify_form_.Render(v);
}

std::string UiAuditPages::Log(const UiViewer& viewer, const UiAuditQuery& query,
                              const std::vector<Event>& events, std::string_view next,
                              std::string_view error, const AuditVerifyState& chain,
                              bool may_verify) const {
  SafeHtml rows;
  for (const Event& e : events) {
    const std::string data = ValidUtf8(CanonicalJson(e.data), kDataShown);
    PageTemplate::Values row;
    row.Text("base", pages_->base())
        .Text("seq", std::to_string(e.seq))
        .Text("at", HumanTime(e.at))
        .Text("at_iso", FormatTime(e.at))
        .Text("type", e.type)
        .Text("actor", e.actor)
        .Text("request", e.request_id)
        .Text("data", data == "{}" ? "" : data);
    rows.Append(row_.Render(row));
  }
  const size_t n = events.size();
  std::string count = n == 0
                          ? "No event matches."
                          : Count(static_cast<int64_t>(n), "event", "events") + ", newest first.";
  PageTemplate::Values v;
  v.Text("base", pages_->base())
      .Text("chain_sentence", Sentence(chain))
      .Text("chain_tone", Tone(chain))
      .Flag("may_verify", may_verify)
      .Html("verify_form", may_verify ? VerifyForm(viewer) : SafeHtml())
      .Text("request", query.request)
      .Text("type", query.type)
      .Text("actor", query.actor)
      .Text("from", query.from)
      .Text("to", query.to)
      .Flag("filtered", !query.request.empty() || !query.type.empty() || !query.actor.empty() ||
                            !query.from.empty() || !query.to.empty() || !error.empty())
      .Text("error", std::string(error))
      .Text("count_sentence", count)
      .Html("rows", std::move(rows))
      .Text("next", std::string(next));
  return pages_->Framed(viewer, "Audit log", log_.Render(v));
}

std::string UiAuditPages::Verify(const UiViewer& viewer, const AuditVerifyState& chain,
                                 bool may_verify) const {
  SafeHtml facts;
  auto fact = [&](std::string key, std::string value) {
    PageTemplate::Values f;
    f.Text("key", std::move(key)).Text("value", std::move(value));
    facts.Append(fact_.Render(f));
  };
  if (chain.started && !chain.running) {
    fact("Started by", chain.by);
    fact("Started", HumanTime(chain.started_at));
    fact("Finished", HumanTime(chain.finished_at));
    fact("Scope",
         chain.full ? "the whole chain" : "events after #" + std::to_string(chain.from_seq));
    if (chain.error.empty()) fact("Events checked", std::to_string(chain.events_checked));
  }
  const int64_t total = std::max<int64_t>(chain.total, 1);
  const int64_t percent = std::clamp<int64_t>(chain.checked * 100 / total, 0, 100);
  PageTemplate::Values v;
  v.Text("base", pages_->base())
      .Flag("running", chain.running)
      .Text("sentence", Sentence(chain))
      .Text("tone", Tone(chain))
      .Text("checked", std::to_string(chain.checked))
      .Text("total", std::to_string(total))
      .Text("percent", std::to_string(percent) + " %")
      .Html("facts", std::move(facts))
      .Flag("may_verify", may_verify)
      .Html("verify_form", may_verify ? VerifyForm(viewer) : SafeHtml());
  return pages_->Framed(viewer, "Verify the audit chain", verify_.Render(v));
}

}  // namespace countersign
