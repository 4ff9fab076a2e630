#include "notify/outbox_notifier.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "notify/webhook_channel.hpp"

namespace countersign {
namespace {

bool IsRequestEvent(std::string_view type) {
  return type.starts_with("request.") || type.starts_with("decision.");
}

bool IsTerminal(std::string_view type) {
  return type == "request.resolved" || type == "request.expired" || type == "request.cancelled";
}

void AddUnique(std::vector<std::string>& names, const std::vector<std::string>& more) {
  for (const auto& n : more) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
}

// The channels `r` has named at escalation level `level`: its own, then each reached tier's.
std::vector<std::string> NamedChannels(const Request& r, int level) {
  std::vector<std::string> names;
  AddUnique(names, r.notify);
  for (int i = 0; i < level && i < static_cast<int>(r.escalate_to.size()); ++i) {
    AddUnique(names, r.escalate_to[static_cast<size_t>(i)].notify);
  }
  return names;
}

std::string StringField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

Status OutboxNotifier::Enqueue(Transaction& txn, const Request& current,
                               const std::vector<Event>& events) {
  std::set<std::pair<std::string, std::string>> queued;  // (destination, "update") so far
  const auto insert = [&](const Event& e, const std::string& destination, const std::string& kind,
                          std::string target, std::string payload) -> Status {
    // One message edit per channel per change, however many events it has.
    if (kind == "update" && !queued.insert({destination, kind}).second) return Ok();
    OutboxRow row;
    row.delivery_id = ids_.Next("dlv_");
    row.tenant = current.tenant;
    row.request_id = current.id;
    row.destination = destination;
    row.kind = kind;
    row.event = e.type;
    row.event_seq = e.seq;
    row.target = std::move(target);
    row.payload = payload.empty() ? std::string("{}") : std::move(payload);
    row.next_attempt_at = e.at;
    row.created_at = e.at;
    if (row.kind == "event") row.payload = WebhookBody(row.delivery_id, e, current);
    CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
    enqueued_.store(true, std::memory_order_release);
    return Ok();
  };

  for (const Event& e : events) {
    if (!IsRequestEvent(e.type) || e.request_id != current.id) continue;

    // Chat and other named channels.
    int level = current.escalation_level;
    std::vector<std::string> first_named;
    if (e.type == "request.escalated") {
      const auto before = NamedChannels(current, std::max(0, level - 1));
      for (const auto& n : NamedChannels(current, level)) {
        if (std::find(before.begin(), before.end(), n) == before.end()) first_named.push_back(n);
      }
    }
    for (const auto& name : NamedChannels(current, level)) {
      const ChannelSet::Entry* entry = channels_.FindChannel(name);
      if (!entry) {
        spdlog::debug("request {} names channel '{}', which is not configured", current.id, name);
        continue;
      }
      if (!entry->tenant.empty() && entry->tenant != current.tenant) continue;
      const bool announce =
          std::find(first_named.begin(), first_named.end(), name) != first_named.end();
      for (const auto& kind : entry->channel->KindsFor(announce ? "request.created" : e.type)) {
        CS_RETURN_IF_ERROR(insert(e, name, kind, "", ""));
      }
    }

    // A chat user whose button press was refused hears why.
    if (e.type == "decision.rejected") {
      const auto* via = e.data.if_contains("via");
      if (via && via->is_object()) {
        const std::string channel = StringField(via->as_object(), "channel");
        const std::string url = StringField(via->as_object(), "response_url");
        if (!url.empty() && channels_.FindChannel(channel)) {
          boost::json::object payload{{"text", StringField(e.data, "reason")}};
          CS_RETURN_IF_ERROR(insert(e, channel, "respond", url, boost::json::serialize(payload)));
        }
      }
    }

    if (IsTerminal(e.type) && !current.callback_url.empty() && channels_.callbacks()) {
      CS_RETURN_IF_ERROR(insert(e, "callback", "event", current.callback_url, ""));
    }
    for (const auto& hook : channels_.webhooks()) {
      if (!hook.tenant.empty() && hook.tenant != current.tenant) continue;
      for (const auto& kind : hook.channel->KindsFor(e.type)) {
        CS_RETURN_IF_ERROR(insert(e, "webhook:" + hook.channel->name(), kind, "", ""));
      }
    }
  }
  return Ok();
}

}  // namespace countersign
