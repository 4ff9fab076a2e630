#include "notify/channel.hpp"

#include <charconv>

namespace countersign {

std::optional<std::chrono::seconds> ParseRetryAfter(const std::string& value) {
  size_t begin = value.find_first_not_of(" \t");
  size_t end = value.find_last_not_of(" \t");
  if (begin == std::string::npos) return std::nullopt;
  int64_t seconds = 0;
  const char* first = value.data() + begin;
  const char* last = value.data() + end + 1;
  auto [ptr, ec] = std::from_chars(first, last, seconds);
  if (ec != std::errc() || ptr != last || seconds < 0) return std::nullopt;
  // A receiver asking for more than a day is treated as asking for a day.
  return std::chrono::seconds(std::min<int64_t>(seconds, 24 * 3600));
}

std::vector<std::string> EditInPlaceKinds(std::string_view event_type) {
  if (event_type == "request.created") return {"post"};
  if (event_type == "request.escalated") return {"update", "remind"};
  if (event_type == "request.reminded") return {"remind"};
  if (event_type == "decision.recorded" || event_type == "request.resolved" ||
      event_type == "request.expired" || event_type == "request.cancelled") {
    return {"update"};
  }
  return {};
}

DeliveryOutcome InterpretHttpStatus(const OutboundReply& reply) {
  if (reply.refused) return DeliveryOutcome::Failed(reply.error);
  if (reply.status == 0) {
    return DeliveryOutcome::Retry(reply.error.empty() ? "no answer" : reply.error);
  }
  const std::string status = "HTTP " + std::to_string(reply.status);
  if (reply.status >= 200 && reply.status < 300) return DeliveryOutcome::Delivered();
  if (reply.status == 408 || reply.status == 429 || reply.status >= 500) {
    return DeliveryOutcome::Retry(status, ParseRetryAfter(reply.Header("retry-after")));
  }
  // The receiver's body is not kept: whoever chose the URL could otherwise read through this
  // server (an internal service's error page) by looking at the outbox or the audit log.
  return DeliveryOutcome::Failed(status);
}

DeliveryOutcome Channel::Interpret(const OutboxRow& /*row*/, const OutboundReply& reply) const {
  return InterpretHttpStatus(reply);
}

DeliveryOutcome Channel::Deliver(const OutboxRow& row, const Request& request,
                                 std::string_view message_ref, HttpTransport& transport,
                                 std::chrono::milliseconds timeout) const {
  auto call = Render(row, request, message_ref);
  if (!call.ok()) return DeliveryOutcome::Failed("cannot render: " + call.error().message);
  return Interpret(row, transport.Send(call.value(), timeout));
}

std::vector<std::string> Channel::TargetsFor(const Request& /*request*/,
                                             const std::vector<std::string>& /*principals*/,
                                             std::string_view address) const {
  if (!address.empty()) return {};
  return {std::string()};
}

Result<ChannelCallback> Channel::ParseCallback(const InboundCallback& /*callback*/,
                                               TimePoint /*now*/) const {
  return Error::Unauthorized("channel '" + name() + "' takes no callbacks");
}

}  // namespace countersign
