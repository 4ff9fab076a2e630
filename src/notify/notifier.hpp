// Notifier: what the engine calls, inside a state change's transaction, so that every
// notification and webhook the change causes is an outbox row committed with it.
//
// Enqueue() runs on the store's writer thread; it must only write through `txn` (never call
// out) and be quick. Thread-safe.
#pragma once

#include <vector>

#include "core/event.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace countersign {

class Notifier {
 public:
  virtual ~Notifier() = default;

  // `current` is the request after the change; `events` are the ones the change appended,
  // in order.
  virtual Status Enqueue(Transaction& txn, const Request& current,
                         const std::vector<Event>& events) = 0;
  // The same for an event about no request (an audit checkpoint): only webhooks take it.
  virtual Status EnqueueAuditEvent(Transaction& txn, const Event& event) = 0;
};

}  // namespace countersign
