// EventFeed: the events one live stream sends, in seq order, with no gap and no duplicate.
//
// Start() subscribes to the EventBus first; from that moment every newly committed event is
// caught in the subscription's bounded queue. With a `since` position, Next() then replays
// the store's events with seq > since page by page, and only after the last page switches to
// the subscription, skipping what the replay already returned (seq <= position). An event is
// therefore either committed before Start() (and in the store when the replay reads it) or
// published after it (and in the queue): never lost, never sent twice. Without `since`, the
// feed sends only events published after Start().
//
// Only request events are sent (non-empty request_id) of the actor's tenant, and of
// `request_id` when one is named. Approvers and admins see every request of their tenant; an
// agent sees only requests it created (request.created names the requester; for later events
// the feed looks the request up once and remembers the answer). A stream for one request is
// checked by whoever builds the feed (GET /v1/events?request=ID answers 404 for a request the
// actor may not read), so events of that request are not checked again. A `session` narrows
// any feed further to the requests made in that session (looked up the same way).
//
// PositionAt() turns a time into a `since`: a feed that should replay "the last five minutes"
// subscribes and replays exactly like a resuming one.
//
// One session drives it (on its strand). With an `offload` (the gateway's read executor),
// Next() never reads the store on the calling thread: when a replay page or a visibility
// look-up is needed it hands that work to `offload`, answers an empty batch at once, and calls
// the wake-up when the result is ready; the next Next() returns it. Without one (unit tests),
// Next() reads the store in place.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/actor.hpp"
#include "core/result.hpp"
#include "engine/event_bus.hpp"
#include "store/store.hpp"

namespace countersign {

class EventFeed {
 public:
  using EventPtr = EventSubscription::EventPtr;
  // Runs a task elsewhere; false when it cannot take one now.
  using Offload = std::function<bool(std::function<void()>)>;

  // `session` empty: requests of any session.
  EventFeed(EventBus& bus, Store& store, Actor actor, std::string request_id,
            std::optional<int64_t> since, std::string session = {}, Offload offload = {});
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Subscribes; call once, before the client learns the stream is open. `wake` runs on the
  // publishing thread whenever Next() may have something new; it must not block.
  void Start(EventSubscription::Wake wake);

  struct Batch {
    std::vector<EventPtr> events;
    // kOverflowed: the client fell max_queue events behind; kClosed: the server is stopping.
    // Either way the stream ends after `events`.
    EventSubscription::State state = EventSubscription::State::kOpen;
    // The replay has more pages: call again without waiting for a wake-up.
    bool more = false;
  };
  // Up to `max` events (fewer, even none, when the others were not the actor's to see).
  // kUnavailable when the store cannot be read; the stream should end (the client resumes).
  Result<Batch> Next(size_t max);

  // The `since` from which a replay of `tenant`'s events starts with the first one stamped at
  // or after `at` (0 when every stored event is). Stamps are taken when an operation starts
  // and seqs when it commits, so neighbours may be a few milliseconds out of order; the
  // search treats them as ordered. Costs O(log seq) indexed reads; kUnavailable when the
  // store cannot be read.
  static Result<int64_t> PositionAt(Store& store, const std::string& tenant, TimePoint at);

  // The seq of the last event Next() has passed (sent or skipped as not visible); `since` or
  // 0 before that. A client resuming from here misses nothing.
  int64_t position() const;
  // The subscription's state: kOverflowed as soon as the client has fallen behind, before
  // Next() reports it. Thread-safe; kOpen before Start().
  EventSubscription::State live_state() const;
  const Actor& actor() const;
  size_t max_queue() const { return bus_.max_queue(); }
  const std::string& request_id() const;

 private:
  // Everything Next() works on, shared with a task in flight on the offload, which may
  // outlive the feed.
  struct State;

  EventBus& bus_;
  const Offload offload_;
  std::shared_ptr<State> state_;
};

}  // namespace countersign
