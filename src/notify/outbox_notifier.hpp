// OutboxNotifier: turns a change's events into outbox rows (the Notifier the Gateway calls
// inside each state change's transaction).
//
// For each request event:
// - every channel the request has named so far (its notify list and the notify lists of the
//   escalation tiers it has reached) gets the row kinds Channel::KindsFor() asks for; a
//   channel that an escalation names for the first time is announced as if the request had
//   just been created. Channels serving another tenant are skipped. Within one change, one
//   row per channel and kind (a decision that resolves the request updates a message once);
// - decision.rejected carrying via.response_url gets a "respond" row to that URL, so the
//   person who pressed the button hears why;
// - the request's callback_url gets the terminal events (resolved, expired, cancelled);
// - every [[webhook]] subscription of the tenant gets the events it subscribed to.
// Thread-safe: it holds only references to immutable configuration.
#pragma once

#include <atomic>

#include "core/id_generator.hpp"
#include "notify/channel_set.hpp"
#include "notify/notifier.hpp"

namespace countersign {

class OutboxNotifier final : public Notifier {
 public:
  OutboxNotifier(const ChannelSet& channels, IdGenerator& ids) : channels_(channels), ids_(ids) {}

  Status Enqueue(Transaction& txn, const Request& current,
                 const std::vector<Event>& events) override;

  // Whether rows were enqueued since the last call (a row whose operation then rolled back
  // counts too: the dispatcher merely looks once more). Lets a commit listener wake the
  // dispatcher only when there is something new.
  bool TakeEnqueued() { return enqueued_.exchange(false, std::memory_order_acq_rel); }

 private:
  std::atomic<bool> enqueued_{false};
  const ChannelSet& channels_;
  IdGenerator& ids_;
};

}  // namespace countersign
