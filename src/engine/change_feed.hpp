// ChangeFeed: the one announcement of what the store has committed, inside the engine.
//
// The gateway attaches one feed to the store's commit listener; everything that reacts to a
// commit (the read cache, the live streams' event bus, the outbox dispatcher) subscribes here
// instead of to the store. A store with another source of commits (a PostgreSQL replica
// hearing LISTEN/NOTIFY) publishes into the same feed, and the consumers do not change.
//
// Publish() runs on the committing thread (the SQLite writer), with one committed batch's
// events in seq order, and calls every consumer in the order they subscribed. Consumers must
// not block. Subscribe() is meant for start-up but is safe at any time: a consumer added while
// a batch is being delivered hears the next batch.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"

namespace countersign {

class ChangeFeed {
 public:
  using Consumer = std::function<void(const std::vector<Event>&)>;

  // `name` says who listens (for the log and for tests); it need not be unique.
  void Subscribe(std::string name, Consumer consumer);
  void Publish(const std::vector<Event>& events) const;

  // The consumers' names, in delivery order.
  std::vector<std::string> Names() const;

 private:
  struct Entry {
    std::string name;
    Consumer consumer;
  };
  using Entries = std::vector<Entry>;

  mutable Mutex mu_;
  // Replaced, never changed in place, so Publish() delivers without holding mu_.
  std::shared_ptr<const Entries> entries_ CS_GUARDED_BY(mu_) = std::make_shared<const Entries>();
};

}  // namespace countersign
