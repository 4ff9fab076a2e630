#include "notify/webhook_channel.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "auth/webhook_signature.hpp"
#include "core/request_json.hpp"
#include "core/time_format.hpp"

namespace countersign {

namespace {

// The events after which someone is asked to decide: their bodies carry the links.
bool AsksForDecision(std::string_view event) {
  return event == "request.created" || event == "request.escalated" || event == "request.reminded";
}

}  // namespace

WebhookChannel::WebhookChannel(std::string name, std::string url, std::string secret,
                               std::vector<std::string> events, const Clock& clock,
                               const LinkBuilder* links)
    : name_(std::move(name)),
      url_(std::move(url)),
      secret_(std::move(secret)),
      events_(std::move(events)),
      clock_(clock),
      links_(links) {}

std::vector<std::string> WebhookChannel::KindsFor(std::string_view event_type) const {
  if (!events_.empty() && std::find(events_.begin(), events_.end(), event_type) == events_.end()) {
    return {};
  }
  return {"event"};
}

Result<OutboundCall> WebhookChannel::Render(const OutboxRow& row, const Request& request,
                                            std::string_view /*message_ref*/) const {
  OutboundCall call;
  call.url = url_.empty() ? row.target : url_;
  if (call.url.empty()) return Error::Invalid("webhook '" + name_ + "' has no URL for this row");
  call.body = row.payload;
  // The frozen body is an object; the links go in before its closing brace, so the bytes
  // before them are exactly the stored ones.
  if (links_ != nullptr && !row.request_id.empty() && AsksForDecision(row.event) &&
      request.pending() && call.body.size() > 2 && call.body.back() == '}') {
    call.body.pop_back();
    call.body +=
        ",\"links\":" + boost::json::serialize(LinksToJson(links_->LinksFor(request))) + "}";
  }
  const int64_t timestamp =
      std::chrono::floor<std::chrono::seconds>(clock_.Now()).time_since_epoch().count();
  call.headers = {{"Content-Type", "application/json"},
                  {"X-Countersign-Event", row.event},
                  {"X-Countersign-Delivery", row.delivery_id},
                  {kWebhookTimestampHeader, std::to_string(timestamp)},
                  {kWebhookSignatureHeader, WebhookSignature(secret_, timestamp, call.body)}};
  return call;
}

std::string WebhookBody(const std::string& delivery_id, const Event& event, const Request* request,
                        std::string_view inbox_url) {
  // Beside the status, so a receiver branches on why without opening "request".
  boost::json::value reason_code = nullptr;
  if (request != nullptr && request->reason_code != ReasonCode::kNone) {
    reason_code = ReasonCodeName(request->reason_code);
  }
  boost::json::object body{
      {"delivery", delivery_id},
      {"event", event.type},
      {"seq", event.seq},
      {"at", FormatTime(event.at)},
      {"actor", event.actor},
      {"data", event.data},
      {"request", request != nullptr ? boost::json::value(RequestToJson(*request)) : nullptr},
      {"status", request != nullptr ? boost::json::value(StatusName(request->status)) : nullptr},
      {"reason_code", reason_code},
      {"inbox_url",
       request != nullptr && !inbox_url.empty() ? boost::json::value(inbox_url) : nullptr}};
  return boost::json::serialize(body);
}

}  // namespace countersign
