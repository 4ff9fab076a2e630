// WebhookChannel: signed JSON POSTs of request events, for a [[webhook]] subscription or a
// request's own callback_url.
//
// Each row's body is frozen when it is enqueued (the event and the request as it stood then),
// so every attempt sends the same bytes under the same delivery id. Headers:
// X-Countersign-Event, X-Countersign-Delivery, X-Countersign-Signature: sha256=<hex HMAC of
// the body>. A subscription with no URL of its own posts to the row's target (callback_url).
// Thread-safe (immutable).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "notify/channel.hpp"

namespace countersign {

class WebhookChannel final : public Channel {
 public:
  // `events` empty: every request event. `url` empty: the row's target.
  WebhookChannel(std::string name, std::string url, std::string secret,
                 std::vector<std::string> events);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "webhook"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;

 private:
  std::string name_;
  std::string url_;
  std::string secret_;
  std::vector<std::string> events_;
};

// The body a webhook row carries: {"delivery", "event", "seq", "at", "actor", "data",
// "request", "inbox_url"}; "request" is null for an event about no request (an audit
// checkpoint). "inbox_url" is `inbox_url`, the request's page in the web inbox
// (LinkBuilder::InboxUrl), or null when it is empty (and always with no request).
std::string WebhookBody(const std::string& delivery_id, const Event& event, const Request* request,
                        std::string_view inbox_url = {});

}  // namespace countersign
