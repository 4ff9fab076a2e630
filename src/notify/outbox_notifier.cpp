#include "notify/outbox_notifier.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"
#include "notify/approver_principals.hpp"
#include "notify/grant_buttons.hpp"
#include "notify/webhook_channel.hpp"

namespace countersign {
namespace {

bool IsRequestEvent(std::string_view type) {
  return type.starts_with("request.") || type.starts_with("decision.") ||
         type == "execution.reported";
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

// What a change granted with the approval of `request_id` (its grant.created event).
std::optional<GrantOption> GrantedBy(const std::vector<Event>& events,
                                     const std::string& request_id) {
  for (const Event& e : events) {
    if (e.type != "grant.created" || e.request_id != request_id) continue;
    const auto expires = ParseTime(StringField(e.data, "expires_at"));
    if (!expires) continue;
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(*expires - e.at);
    if (ttl.count() < 1) continue;
    return GrantOption{StringField(e.data, "scope"), ttl};
  }
  return std::nullopt;
}

}  // namespace

const ChannelSet::Entry* OutboxNotifier::FindNamed(const std::string& name,
                                                   const std::string& tenant,
                                                   std::string& address) const {
  address.clear();
  if (const ChannelSet::Entry* entry = channels_.FindChannel(name)) return entry;
  const size_t colon = name.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == name.size()) return nullptr;
  for (const ChannelSet::Entry* entry : channels_.OfType(std::string_view(name).substr(0, colon))) {
    if (entry->tenant.empty() || entry->tenant == tenant) {
      address = name.substr(colon + 1);
      return entry;
    }
  }
  return nullptr;
}

Status OutboxNotifier::Enqueue(Transaction& txn, const Request& current,
                               const std::vector<Event>& events) {
  // (destination, target) of the "update" rows so far.
  std::set<std::pair<std::string, std::string>> queued;
  const auto insert = [&](const Event& e, const std::string& destination, const std::string& kind,
                          std::string target, std::string payload) -> Status {
    // One message edit per channel (and recipient) per change, however many events it has.
    if (kind == "update" && !queued.insert({destination, target}).second) return Ok();
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
    if (row.kind == "event") {
      row.payload = WebhookBody(row.delivery_id, e, &current,
                                links_ != nullptr ? links_->InboxUrl(current.id) : "");
    }
    CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
    enqueued_.store(true, std::memory_order_release);
    return Ok();
  };

  // A grant given with the approval: the chat rows of the change say so.
  const std::optional<GrantOption> granted = GrantedBy(events, current.id);
  const std::string granted_payload =
      granted ? boost::json::serialize(GrantedPayload(*granted)) : std::string();

  // The "respond" row that answers the person who pressed a chat button, when the event's
  // `via` has somewhere to send it: the reason of a refusal, or (on a channel that answers
  // every press) the choice that was recorded.
  const auto answer_press = [&](const Event& e) -> Status {
    const auto* via = e.data.if_contains("via");
    if (!via || !via->is_object()) return Ok();
    const std::string channel = StringField(via->as_object(), "channel");
    const std::string url = StringField(via->as_object(), "response_url");
    const ChannelSet::Entry* entry = channels_.FindChannel(channel);
    if (url.empty() || !entry) return Ok();
    boost::json::object payload;
    if (e.type == "decision.rejected") {
      payload["text"] = StringField(e.data, "reason");
      // A press without the form the request asks for: the channel gives the person the form
      // (a link of their own, made when the row is delivered, so no link is ever stored).
      const auto* form_required = e.data.if_contains("form_required");
      if (form_required && form_required->is_bool() && form_required->get_bool() &&
          !e.actor.empty()) {
        payload["form"] =
            boost::json::object{{"choice", StringField(e.data, "choice")},
                                {"principal", e.actor},
                                {"identity", StringField(via->as_object(), "identity")}};
      }
    } else if (entry->channel->AnswersEveryPress()) {
      if (granted) payload = GrantedPayload(*granted);
      payload["choice"] = StringField(e.data, "choice");
    } else {
      return Ok();
    }
    return insert(e, channel, "respond", url, boost::json::serialize(payload));
  };

  // The request's approvers with each group replaced by its members, worked out when a
  // channel first asks.
  std::optional<std::vector<std::string>> expanded;
  const auto principals = [&]() -> const std::vector<std::string>& {
    if (!expanded) expanded = ExpandApprovers(current.approvers, group_members_);
    return *expanded;
  };

  for (const Event& e : events) {
    if (!IsRequestEvent(e.type) || e.request_id != current.id) continue;

    // A press that decided is answered before the message is edited (a destination's rows
    // of one request are delivered in order).
    if (e.type == "decision.recorded") CS_RETURN_IF_ERROR(answer_press(e));

    // Chat and other named channels; a conversation's chat is the conversation worker's.
    if (current.kind != Kind::kConversation) {
      int level = current.escalation_level;
      std::vector<std::string> first_named;
      if (e.type == "request.escalated") {
        const auto before = NamedChannels(current, std::max(0, level - 1));
        for (const auto& n : NamedChannels(current, level)) {
          if (std::find(before.begin(), before.end(), n) == before.end()) first_named.push_back(n);
        }
      }
      std::set<std::tuple<std::string, std::string, std::string>> named_rows;  // of this event
      for (const auto& name : NamedChannels(current, level)) {
        std::string address;
        const ChannelSet::Entry* entry = FindNamed(name, current.tenant, address);
        if (!entry) {
          spdlog::debug("request {} names channel '{}', which is not configured", current.id, name);
          continue;
        }
        if (!entry->tenant.empty() && entry->tenant != current.tenant) continue;
        const bool announce =
            std::find(first_named.begin(), first_named.end(), name) != first_named.end();
        const std::string& destination = entry->channel->name();
        for (const auto& kind : entry->channel->KindsFor(announce ? "request.created" : e.type)) {
          for (auto& target : entry->channel->TargetsFor(current, principals(), address)) {
            if (!named_rows.insert({destination, kind, target}).second) continue;
            CS_RETURN_IF_ERROR(insert(e, destination, kind, std::move(target), granted_payload));
          }
        }
      }
    }

    // A chat user whose button press was refused hears why.
    if (e.type == "decision.rejected") CS_RETURN_IF_ERROR(answer_press(e));

    // The callback hears how the request ended and, later, what ran.
    if ((IsTerminal(e.type) || e.type == "execution.reported") && !current.callback_url.empty() &&
        channels_.callbacks()) {
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

Status OutboxNotifier::EnqueueAuditEvent(Transaction& txn, const Event& event) {
  for (const auto& hook : channels_.webhooks()) {
    if (!hook.tenant.empty() && hook.tenant != event.tenant) continue;
    for (const auto& kind : hook.channel->KindsFor(event.type)) {
      OutboxRow row;
      row.delivery_id = ids_.Next("dlv_");
      row.tenant = event.tenant;
      row.destination = "webhook:" + hook.channel->name();
      row.kind = kind;
      row.event = event.type;
      row.event_seq = event.seq;
      row.payload = WebhookBody(row.delivery_id, event, nullptr);
      row.next_attempt_at = event.at;
      row.created_at = event.at;
      CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
      enqueued_.store(true, std::memory_order_release);
    }
  }
  return Ok();
}

}  // namespace countersign
