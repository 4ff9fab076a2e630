#include "compat/aisoc_prompt.hpp"

#include <map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "notify/channel_factory.hpp"
#include "notify/chat_text.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// Replaces every string in `v` that is a key of `urls` with its value.
void ReplaceUrls(json::value& v, const std::map<std::string, std::string, std::less<>>& urls) {
  if (v.is_string()) {
    auto it = urls.find(std::string_view(v.get_string()));
    if (it != urls.end()) v = it->second;
  } else if (v.is_array()) {
    for (auto& item : v.get_array()) ReplaceUrls(item, urls);
  } else if (v.is_object()) {
    for (auto& entry : v.get_object()) ReplaceUrls(entry.value(), urls);
  }
}

OutboxRow PostRow() {
  OutboxRow row;
  row.kind = "post";
  row.event = "request.created";
  return row;
}

std::string FailureText(const std::string& transport, const std::string& why) {
  return "could not deliver the ChatOps prompt to " + transport + ": " + why;
}

}  // namespace

AisocPrompt::AisocPrompt(PublicUrl public_url, const LinkSigner& signer, std::string slack_api_base,
                         const Clock& clock)
    : public_url_(std::move(public_url)),
      links_(public_url_.text(), signer),
      slack_api_base_(std::move(slack_api_base)),
      clock_(clock) {}

std::string AisocPrompt::CallbackUrl(const Request& r, const std::string& choice,
                                     const std::string& recipient) const {
  // The link's token, exactly as the channels' /l/ links carry it.
  const std::string token = links_.Url(r, choice, recipient).substr(public_url_.LinkFor("").size());
  return public_url_.text() + kCallbackPath + "?token=" + token;
}

Result<AisocPrompt::Prepared> AisocPrompt::Prepare(const Request& view,
                                                   const AisocPromptTarget& target,
                                                   const std::string& recipient) const {
  const bool web_api = !target.bot_token.empty();
  ChannelSettings settings;
  settings.name = "aisoc";
  settings.type = target.transport;
  settings.source = "[compat.aisoc]";
  // Web API mode of SlackChannel sends interactive buttons that call back to a configured
  // channel; a prompt needs URL buttons, so it is always rendered as for a webhook.
  settings.values["webhook_url"] =
      web_api ? slack_api_base_ + "/chat.postMessage" : target.webhook_url;
  settings.values["principal"] = recipient;
  if (target.transport == "teams") settings.values["format"] = target.teams_format;
  auto channel = MakeChannel(std::move(settings), links_, clock_);
  if (!channel.ok()) return std::move(channel).error();

  auto call = channel.value()->Render(PostRow(), view, "");
  if (!call.ok()) return std::move(call).error();
  boost::system::error_code ec;
  json::value body = json::parse(call->body, ec);
  if (ec) return Error::Internal("the " + target.transport + " channel rendered invalid JSON");
  std::map<std::string, std::string, std::less<>> urls;
  for (const Choice& c : view.choices) {
    urls[links_.Url(view, c.id, recipient)] = CallbackUrl(view, c.id, recipient);
  }
  ReplaceUrls(body, urls);

  Prepared out;
  if (web_api) {
    body.get_object()["channel"] = target.channel;
    call->headers.emplace_back("Authorization", "Bearer " + target.bot_token);
    out.mode = "chat.postMessage";
  } else if (target.transport == "slack") {
    out.mode = "incoming_webhook";
  } else {
    out.mode = target.teams_format == "messagecard" ? "connector" : "workflows";
  }
  call->body = json::serialize(body);
  out.call = std::move(call).value();
  out.channel = std::shared_ptr<const Channel>(std::move(channel).value());
  return out;
}

Result<json::object> AisocPrompt::Interpret(const Prepared& prepared,
                                            const OutboundReply& reply) const {
  const std::string transport(prepared.channel->type());
  const DeliveryOutcome outcome = prepared.channel->Interpret(PostRow(), reply);
  if (outcome.kind != DeliveryOutcome::Kind::kDelivered) {
    return Error::Unavailable(FailureText(transport, outcome.error));
  }
  json::object delivery{{"mode", prepared.mode}, {"status_code", reply.status}};
  if (prepared.mode != "chat.postMessage") return delivery;
  // The Web API answers HTTP 200 either way; {"ok": false, "error": ...} is a failure.
  boost::system::error_code ec;
  json::value answer = json::parse(reply.body, ec);
  if (ec || !answer.is_object()) {
    return Error::Unavailable(FailureText(transport, "chat.postMessage answered without JSON"));
  }
  const json::object& o = answer.get_object();
  const auto* ok = o.if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    const auto* error = o.if_contains("error");
    const std::string why =
        error && error->is_string() ? std::string(error->get_string()) : "unknown_error";
    return Error::Unavailable(
        FailureText(transport, "chat.postMessage: " + TruncateText(why, 200)));
  }
  for (const char* key : {"channel", "ts"}) {
    if (const auto* v = o.if_contains(key); v && v->is_string()) delivery[key] = v->get_string();
  }
  return delivery;
}

}  // namespace countersign
