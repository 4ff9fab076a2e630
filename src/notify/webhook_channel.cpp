#include "notify/webhook_channel.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {

WebhookChannel::WebhookChannel(std::string name, std::string url, std::string secret,
                               std::vector<std::string> events)
    : name_(std::move(name)),
      url_(std::move(url)),
      secret_(std::move(secret)),
      events_(std::move(events)) {}

std::vector<std::string> WebhookChannel::KindsFor(std::string_view event_type) const {
  if (!events_.empty() && std::find(events_.begin(), events_.end(), event_type) == events_.end()) {
    return {};
  }
  return {"event"};
}

Result<OutboundCall> WebhookChannel::Render(const OutboxRow& row, const Request& /*request*/,
                                            std::string_view /*message_ref*/) const {
  OutboundCall call;
  call.url = url_.empty() ? row.target : url_;
  if (call.url.empty()) return Error::Invalid("webhook '" + name_ + "' has no URL for this row");
  call.body = row.payload;
  call.headers = {{"Content-Type", "application/json"},
                  {"X-Countersign-Event", row.event},
                  {"X-Countersign-Delivery", row.delivery_id},
                  {"X-Countersign-Signature", "sha256=" + HmacSha256Hex(secret_, row.payload)}};
  return call;
}

std::string WebhookBody(const std::string& delivery_id, const Event& event, const Request* request,
                        std::string_view inbox_url) {
  boost::json::object body{
      {"delivery", delivery_id},
      {"event", event.type},
      {"seq", event.seq},
      {"at", FormatTime(event.at)},
      {"actor", event.actor},
      {"data", event.data},
      {"request", request != nullptr ? boost::json::value(RequestToJson(*request)) : nullptr},
      {"inbox_url",
       request != nullptr && !inbox_url.empty() ? boost::json::value(inbox_url) : nullptr}};
  return boost::json::serialize(body);
}

}  // namespace countersign
