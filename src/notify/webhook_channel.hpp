// WebhookChannel: signed JSON POSTs of request events, for a [[webhook]] subscription or a
// request's own callback_url.
//
// Each row's body is frozen when it is enqueued (the event and the request as it stood then),
// so every attempt sends the same bytes under the same delivery id, with one exception: a
// channel given a LinkBuilder adds "links" (LinkBuilder::LinksFor, as a JSON array) to the body
// of an event that asks people to decide (request.created, .escalated, .reminded) when the
// request is still pending at delivery. Links are made when the row is delivered, never stored
// in the outbox, and are left out once nobody can decide any more. Headers:
// X-Countersign-Event, X-Countersign-Delivery, X-Countersign-Timestamp (the clock's Unix
// seconds at this attempt) and X-Countersign-Signature (WebhookSignature: over the timestamp
// and the body). A subscription with no URL of its own posts to the row's target
// (callback_url). Thread-safe (immutable).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "notify/channel.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

class WebhookChannel final : public Channel {
 public:
  // `events` empty: every request event. `url` empty: the row's target. `clock` stamps each
  // attempt. `links`, when given, adds one-click links to the bodies that ask for a decision;
  // it and `clock` must outlive the channel.
  WebhookChannel(std::string name, std::string url, std::string secret,
                 std::vector<std::string> events, const Clock& clock,
                 const LinkBuilder* links = nullptr);

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
  const Clock& clock_;
  const LinkBuilder* const links_;
};

// The body a webhook row carries: {"delivery", "event", "seq", "at", "actor", "data",
// "request", "status", "reason_code", "inbox_url"}; "request" is null for an event about no
// request (an audit checkpoint). "status" and "reason_code" are the request's (as in
// "request"), "reason_code" null while it is pending; both null with no request. "inbox_url"
// is `inbox_url`, the request's page in the web inbox (LinkBuilder::InboxUrl), or null when
// it is empty (and always with no request).
std::string WebhookBody(const std::string& delivery_id, const Event& event, const Request* request,
                        std::string_view inbox_url = {});

}  // namespace countersign
