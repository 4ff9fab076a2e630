// OutboxNotifier: turns a change's events into outbox rows (the Notifier the Gateway calls
// inside each state change's transaction).
//
// For each request event (request.*, decision.* and execution.reported):
// - every channel the request has named so far (its notify list and the notify lists of the
//   escalation tiers it has reached) gets the row kinds Channel::KindsFor() asks for; a
//   channel that an escalation names for the first time is announced as if the request had
//   just been created. Channels serving another tenant are skipped. Each kind gets one row
//   per target the channel's TargetsFor() gives (email: one per recipient; the approvers it
//   is given have each "group:NAME" replaced by the members `group_members` lists). A notify
//   entry "TYPE:ADDRESS" that is not a channel's name goes to the first channel of that type
//   serving the request's tenant, with ADDRESS ("email:ops@example.com"). Within one change,
//   one row per channel, kind and target (a decision that resolves the request updates a
//   message once). When the change granted a standing permission with the approval (a
//   grant.created event), these rows' payload is {"granted": {"scope", "ttl_seconds"}}
//   (notify/grant_buttons.hpp) so the edited message says what was granted;
// - decision.rejected carrying via.response_url gets a "respond" row to that URL (payload
//   {"text": reason}, and {"form": {"choice", "principal", "identity"}} when the press lacked the
//   form the request asks for), so the person who pressed the button hears why; decision.recorded
//   carrying one gets a "respond" row (payload {"choice": id}, with "granted" likewise) ahead
//   of the message edit when the channel AnswersEveryPress() (Telegram);
// - the request's callback_url gets the terminal events (resolved, expired, cancelled) and
//   the executor's report (execution.reported);
// - every [[webhook]] subscription of the tenant gets the events it subscribed to, and
//   EnqueueAuditEvent gives them the events about no request (audit checkpoints).
// The body of every webhook and callback row (WebhookBody) is frozen when the row is written;
// it carries the request's "inbox_url" when the notifier has a LinkBuilder.
// Thread-safe: it holds only references to immutable configuration.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/id_generator.hpp"
#include "notify/approver_principals.hpp"
#include "notify/channel_set.hpp"
#include "notify/link_builder.hpp"
#include "notify/notifier.hpp"

namespace countersign {

class OutboxNotifier final : public Notifier {
 public:
  // `group_members` (see ExpandApprovers) is called inside the store's transaction: it must be
  // quick and must not write. `links`, when given, must outlive the notifier: it makes the
  // "inbox_url" of webhook and callback bodies (without it that is null).
  OutboxNotifier(const ChannelSet& channels, IdGenerator& ids, GroupMembers group_members = {},
                 const LinkBuilder* links = nullptr)
      : channels_(channels), ids_(ids), group_members_(std::move(group_members)), links_(links) {}

  Status Enqueue(Transaction& txn, const Request& current,
                 const std::vector<Event>& events) override;
  // Each [[webhook]] of the event's tenant (or of none) subscribed to its type gets a row.
  Status EnqueueAuditEvent(Transaction& txn, const Event& event) override;

  // Whether rows were enqueued since the last call (a row whose operation then rolled back
  // counts too: the dispatcher merely looks once more). Lets a commit listener wake the
  // dispatcher only when there is something new.
  bool TakeEnqueued() { return enqueued_.exchange(false, std::memory_order_acq_rel); }

 private:
  // The channel a notify entry names: by name, or "TYPE:ADDRESS" (then `address` is set).
  const ChannelSet::Entry* FindNamed(const std::string& name, const std::string& tenant,
                                     std::string& address) const;

  std::atomic<bool> enqueued_{false};
  const ChannelSet& channels_;
  IdGenerator& ids_;
  const GroupMembers group_members_;
  const LinkBuilder* const links_;
};

}  // namespace countersign
