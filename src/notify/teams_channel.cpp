#include "notify/teams_channel.hpp"

#include <boost/json/serialize.hpp>

#include "core/choice_meaning.hpp"
#include "core/time_format.hpp"
#include "notify/chat_text.hpp"
#include "notify/markdown_escape.hpp"
#include "notify/request_text.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// "2026-11-21 10:05:00 UTC": readable in a card, where no date function is certain to work.
std::string CardTime(TimePoint t) {
  std::string text = FormatTime(t);  // 2026-11-21T10:05:00.000Z
  text[10] = ' ';
  return text.substr(0, 19) + " UTC";
}

// Adaptive Card colours: Good, Attention, Warning, Accent, Default.
const char* AdaptiveColor(RequestStatus status) {
  switch (status) {
    case RequestStatus::kPending:
      return "Accent";
    case RequestStatus::kApproved:
    case RequestStatus::kAnswered:
      return "Good";
    case RequestStatus::kDenied:
      return "Attention";
    case RequestStatus::kExpired:
    case RequestStatus::kCancelled:
    case RequestStatus::kDismissed:
    case RequestStatus::kEnded:
      return "Warning";
  }
  return "Default";
}

const char* ThemeColor(RequestStatus status) {
  switch (status) {
    case RequestStatus::kPending:
      return "0076D7";
    case RequestStatus::kApproved:
    case RequestStatus::kAnswered:
      return "2EB886";
    case RequestStatus::kDenied:
      return "D13438";
    case RequestStatus::kExpired:
    case RequestStatus::kCancelled:
    case RequestStatus::kDismissed:
    case RequestStatus::kEnded:
      return "8A8886";
  }
  return "8A8886";
}

struct Fact {
  std::string title;
  std::string value;
};

// How user text goes into a card: escaped where Teams renders Markdown (every text of an
// Adaptive Card, a MessageCard's title), as it is where it does not (MessageCard sections,
// sent with "markdown": false), cut to `max` either way.
enum class Text { kMarkdown, kPlain };

std::string CardText(std::string_view raw, size_t max, Text text) {
  const std::string shown = ShowBidiControls(raw);
  return text == Text::kMarkdown ? TruncateEscaped(shown, max, EscapeCommonMark)
                                 : TruncateText(shown, max);
}

std::vector<Fact> RequestFacts(const Request& r, Text text) {
  std::vector<Fact> facts{{"Action", r.action},
                          {"Requested by", r.requester},
                          {"Deadline", CardTime(r.deadline_at)},
                          {"Risk", r.risk},
                          {"Policy", r.policy}};
  if (!r.approvers.empty()) {
    std::string who = JoinText(r.approvers, ", ");
    if (r.quorum > 1) who += " (" + std::to_string(r.quorum) + " needed)";
    facts.push_back({"Approvers", who});
  }
  if (r.escalation_level > 0) facts.push_back({"Escalation", std::to_string(r.escalation_level)});
  for (const auto& [key, value] : r.details) {
    facts.push_back({std::string(key),
                     value.is_string() ? std::string(value.get_string()) : json::serialize(value)});
  }
  for (auto& f : facts) {
    f.title = CardText(f.title, 100, text);
    f.value = CardText(f.value, TeamsChannel::kMaxFact, text);
  }
  return facts;
}

// Who decided what: one fact per decision.
std::vector<Fact> DecisionFacts(const Request& r, Text text) {
  std::vector<Fact> facts;
  for (const auto& d : r.decisions) {
    const Choice* c = r.FindChoice(d.choice);
    std::string what = !d.answer.empty() ? d.answer : c ? ChoiceMeaning::Caption(*c) : d.choice;
    if (!d.comment.empty()) what += " \u2014 \u201c" + d.comment + "\u201d";
    facts.push_back(
        {CardText(d.principal, 100, text), CardText(what, TeamsChannel::kMaxFact, text)});
  }
  return facts;
}

std::string ArgumentsText(const Request& r, Text text) {
  return CardText(json::serialize(r.arguments), TeamsChannel::kMaxArguments, text);
}

std::string Summary(const Request& r, std::string_view event) {
  return TruncateText(RequestHeadline(r, event) + ": " + r.title, TeamsChannel::kMaxTitle);
}

json::object AdaptiveFactSet(const std::vector<Fact>& facts) {
  json::array out;
  for (const auto& f : facts)
    out.emplace_back(json::object{{"title", f.title}, {"value", f.value}});
  return {{"type", "FactSet"}, {"facts", std::move(out)}};
}

// The last action of every card: the request's page in the web inbox, which decides nothing.
constexpr char kInboxTitle[] = "Open in the inbox";

// A MessageCard button that opens `uri`.
json::object OpenUri(std::string name, std::string uri) {
  return {{"@type", "OpenUri"},
          {"name", std::move(name)},
          {"targets", json::array{json::object{{"os", "default"}, {"uri", std::move(uri)}}}}};
}

json::array MessageCardFacts(const std::vector<Fact>& facts) {
  json::array out;
  for (const auto& f : facts) out.emplace_back(json::object{{"name", f.title}, {"value", f.value}});
  return out;
}

}  // namespace

TeamsChannel::TeamsChannel(std::string name, const LinkBuilder& links)
    : name_(std::move(name)), links_(links) {}

Result<std::unique_ptr<Channel>> TeamsChannel::Create(ChannelSettings settings,
                                                      const LinkBuilder& links) {
  std::unique_ptr<TeamsChannel> c(new TeamsChannel(settings.name, links));
  auto url = settings.TakeRequired("webhook_url");
  if (!url.ok()) return std::move(url).error();
  c->webhook_url_ = std::move(url).value();
  if (c->webhook_url_.rfind("https://", 0) != 0 && c->webhook_url_.rfind("http://", 0) != 0) {
    return Error::Invalid(settings.At("webhook_url") +
                          ": webhook_url must be an http or https URL");
  }
  const std::string format = settings.Take("format").value_or("adaptive");
  if (format == "adaptive") {
    c->format_ = Format::kAdaptive;
  } else if (format == "messagecard") {
    c->format_ = Format::kMessageCard;
  } else {
    return Error::Invalid(settings.At("format") +
                          ": format must be \"adaptive\" or \"messagecard\"");
  }
  c->principal_ = settings.Take("principal").value_or("channel:" + settings.name);
  if (c->principal_.empty())
    return Error::Invalid(settings.At("principal") + " has an empty principal");
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return std::unique_ptr<Channel>(std::move(c));
}

std::vector<std::string> TeamsChannel::KindsFor(std::string_view event_type) const {
  if (event_type == "request.created" || event_type == "request.escalated" ||
      event_type == "request.reminded" || event_type == "request.resolved" ||
      event_type == "request.expired" || event_type == "request.cancelled") {
    return {"post"};
  }
  return {};
}

json::object TeamsChannel::AdaptiveMessage(const Request& r, std::string_view event) const {
  const Text md = Text::kMarkdown;
  json::array body;
  body.emplace_back(json::object{{"type", "TextBlock"},
                                 {"text", CardText(RequestHeadline(r, event), kMaxTitle, md)},
                                 {"weight", "Bolder"},
                                 {"color", AdaptiveColor(r.status)},
                                 {"wrap", true}});
  body.emplace_back(json::object{{"type", "TextBlock"},
                                 {"text", CardText(r.title, kMaxTitle, md)},
                                 {"size", "Large"},
                                 {"weight", "Bolder"},
                                 {"wrap", true}});
  body.emplace_back(AdaptiveFactSet(RequestFacts(r, md)));
  if (!r.arguments.empty()) {
    body.emplace_back(json::object{{"type", "TextBlock"},
                                   {"text", ArgumentsText(r, md)},
                                   {"fontType", "Monospace"},
                                   {"wrap", true}});
  }
  if (!r.decisions.empty()) body.emplace_back(AdaptiveFactSet(DecisionFacts(r, md)));
  json::object card{{"type", "AdaptiveCard"}, {"version", "1.4"}, {"body", std::move(body)}};
  json::array actions;
  if (r.pending()) {
    for (const Choice& c : r.choices) {
      json::object action{{"type", "Action.OpenUrl"},
                          {"title", ChoiceButtonText(c, 75)},
                          {"url", links_.Url(r, c.id, principal_)}};
      const std::string style = ChoiceMeaning::Style(c);
      if (style == "primary") action["style"] = "positive";
      if (style == "danger") action["style"] = "destructive";
      actions.emplace_back(std::move(action));
    }
  }
  actions.emplace_back(json::object{
      {"type", "Action.OpenUrl"}, {"title", kInboxTitle}, {"url", links_.InboxUrl(r.id)}});
  card["actions"] = std::move(actions);
  return {{"type", "message"},
          {"attachments",
           json::array{json::object{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                    {"contentUrl", nullptr},
                                    {"content", std::move(card)}}}}};
}

json::object TeamsChannel::MessageCard(const Request& r, std::string_view event) const {
  const Text plain = Text::kPlain;
  json::array sections;
  sections.emplace_back(
      json::object{{"activityTitle", CardText(RequestHeadline(r, event), kMaxTitle, plain)},
                   {"facts", MessageCardFacts(RequestFacts(r, plain))},
                   {"markdown", false}});
  if (!r.arguments.empty()) {
    sections.emplace_back(json::object{
        {"title", "Arguments"}, {"text", ArgumentsText(r, plain)}, {"markdown", false}});
  }
  if (!r.decisions.empty()) {
    sections.emplace_back(json::object{{"title", "Decisions"},
                                       {"facts", MessageCardFacts(DecisionFacts(r, plain))},
                                       {"markdown", false}});
  }
  json::object card{{"@type", "MessageCard"},
                    {"@context", "https://schema.org/extensions"},
                    {"summary", Summary(r, event)},
                    {"themeColor", ThemeColor(r.status)},
                    {"title", CardText(r.title, kMaxTitle, Text::kMarkdown)},
                    {"sections", std::move(sections)}};
  json::array actions;
  if (r.pending()) {
    for (const Choice& c : r.choices) {
      actions.emplace_back(OpenUri(ChoiceButtonText(c, 75), links_.Url(r, c.id, principal_)));
    }
  }
  actions.emplace_back(OpenUri(kInboxTitle, links_.InboxUrl(r.id)));
  card["potentialAction"] = std::move(actions);
  return card;
}

Result<OutboundCall> TeamsChannel::Render(const OutboxRow& row, const Request& request,
                                          std::string_view /*message_ref*/) const {
  if (row.kind != "post") {
    return Error::Invalid("teams channel '" + name_ + "' cannot deliver a '" + row.kind + "' row");
  }
  OutboundCall call;
  call.url = webhook_url_;
  call.headers = {{"Content-Type", "application/json"}};
  call.body = json::serialize(format_ == Format::kAdaptive ? AdaptiveMessage(request, row.event)
                                                           : MessageCard(request, row.event));
  return call;
}

DeliveryOutcome TeamsChannel::Interpret(const OutboxRow& /*row*/,
                                        const OutboundReply& reply) const {
  if (reply.status >= 200 && reply.status < 300 &&
      reply.body.find("returned HTTP error 429") != std::string::npos) {
    return DeliveryOutcome::Retry("teams: throttled (HTTP 429 in the reply body)");
  }
  return InterpretHttpStatus(reply);
}

}  // namespace countersign
