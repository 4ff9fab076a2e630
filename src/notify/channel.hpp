// Channel: one configured destination for notifications ([[channel]] in the config): how a
// request is rendered for it, how its answers are read, and (for chat apps with buttons) how
// its callbacks are verified and parsed.
//
// The OutboxNotifier asks KindsFor() which outbox rows an event needs (and TargetsFor() how
// many of each); the Dispatcher later calls Deliver() with the request as it stands at
// delivery time (so a late message shows the current state), which for HTTP channels is
// Render(), the call, and Interpret() on the reply. Implementations are immutable after
// construction and thread-safe; any cache they keep (a replay cache) is internally locked.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "notify/http_transport.hpp"
#include "notify/outbound_call.hpp"
#include "store/store.hpp"

namespace countersign {

// What an attempt came to.
struct DeliveryOutcome {
  enum class Kind { kDelivered, kRetry, kFailed };
  Kind kind = Kind::kDelivered;
  std::string error;                                // for kRetry and kFailed
  std::optional<std::chrono::seconds> retry_after;  // the receiver's Retry-After, if any
  std::string message_ref;  // kDelivered posts: what to keep for later edits (may be empty)

  static DeliveryOutcome Delivered(std::string ref = {}) {
    return {Kind::kDelivered, {}, std::nullopt, std::move(ref)};
  }
  static DeliveryOutcome Retry(std::string why,
                               std::optional<std::chrono::seconds> after = std::nullopt) {
    return {Kind::kRetry, std::move(why), after, {}};
  }
  static DeliveryOutcome Failed(std::string why) {
    return {Kind::kFailed, std::move(why), std::nullopt, {}};
  }
};

// An inbound chat callback as the HTTP layer received it: verified before anything is parsed.
struct InboundCallback {
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // raw bytes, exactly as received
};

// A verified button press.
struct ChannelCallback {
  std::string identity;      // "slack:U024BE7LH": looked up in [identities]
  std::string display_name;  // for messages ("@alice")
  std::string request_id;
  std::string choice;
  // Set instead of `choice` when the button carries the choice's position in the request's
  // choices (a ButtonKey: Telegram, Discord); the receiver looks the id up.
  std::optional<size_t> choice_index;
  // A grant button ("Approve for this session"): the scope of the request's grant option the
  // approval also gives, "session" or "requester"; empty for a plain choice. Only the scope:
  // the receiver looks the option (and so its duration) up in the request as stored.
  std::string grant_scope;
  // Where an answer to the person goes (the outbox "respond" row's target), when the
  // platform gives one: a Slack response_url, a Telegram callback query.
  std::string response_url;
};

class Channel {
 public:
  virtual ~Channel() = default;

  virtual const std::string& name() const = 0;
  // "slack", "teams", "webhook", ...
  virtual std::string_view type() const = 0;

  // The outbox row kinds ("post", "update", "remind", ...) that an event of `event_type` on a
  // request this channel was asked to notify needs, in order; empty: nothing.
  virtual std::vector<std::string> KindsFor(std::string_view event_type) const = 0;

  // The HTTP call that delivers `row`. `request` is the request as it stands now;
  // `message_ref` is what this channel's post for the same request returned (empty when
  // there was none). kInvalid when the row cannot be rendered (it then fails at once).
  virtual Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                                      std::string_view message_ref) const = 0;

  // Reads the reply. The default: 2xx delivered; no answer, 408, 429 and 5xx retried (with
  // Retry-After when the receiver sent one); any other status failed.
  virtual DeliveryOutcome Interpret(const OutboxRow& row, const OutboundReply& reply) const;

  // One attempt at `row`, blocking (on a dispatcher worker) for at most about `timeout`. The
  // default renders the row, sends the call through `transport` and interprets the reply; a
  // row that cannot be rendered fails. A channel that does not speak HTTP (email) overrides
  // it and ignores `transport`.
  virtual DeliveryOutcome Deliver(const OutboxRow& row, const Request& request,
                                  std::string_view message_ref, HttpTransport& transport,
                                  std::chrono::milliseconds timeout) const;

  // The rows of one kind that `request` needs from this channel: one per returned target (the
  // row's `target`), so a channel that sends each recipient a message of their own (email)
  // retries and fails each recipient alone. `principals`: the request's approvers, each
  // "group:NAME" replaced by the group's members. `address`: set when the request named
  // "TYPE:ADDRESS" (e.g. "email:ops@example.com") rather than the channel. The default: one
  // row without a target for the channel's name; none for an address.
  virtual std::vector<std::string> TargetsFor(const Request& request,
                                              const std::vector<std::string>& principals,
                                              std::string_view address) const;

  // For channels with interactive buttons: verifies (signature, timestamp, replay) and parses
  // a callback. kUnauthorized when verification fails: nothing else may happen then. The
  // default refuses every callback.
  virtual Result<ChannelCallback> ParseCallback(const InboundCallback& callback,
                                                TimePoint now) const;

  // Whether a press of this channel's buttons is answered even when it decides (a "respond"
  // row for decision.recorded carrying via.response_url), not only when it is refused.
  // Telegram shows a spinner on a pressed button until the press is answered. Default false.
  virtual bool AnswersEveryPress() const { return false; }
};

// The row kinds of a channel that posts one message and edits it in place (Slack's Web API,
// Telegram, Discord): created → post; escalated → update and remind (the edit shows the new
// level, the reminder is what notifies people); reminded → remind; a decision or the end of
// the request → update.
std::vector<std::string> EditInPlaceKinds(std::string_view event_type);

// The default reading of a reply, for channels that only need to add to it.
DeliveryOutcome InterpretHttpStatus(const OutboundReply& reply);
// Retry-After as delta-seconds (an HTTP date is not accepted: nullopt).
std::optional<std::chrono::seconds> ParseRetryAfter(const std::string& value);

}  // namespace countersign
