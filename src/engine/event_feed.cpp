#include "engine/event_feed.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/mutex.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

// The store's largest page.
constexpr size_t kMaxReplayPage = 1000;

}  // namespace

struct EventFeed::State {
  // How many request ids a filtering feed (an agent's, a session's) remembers before it
  // starts over.
  static constexpr size_t kMaxRemembered = 4096;

  State(Store& store, Actor actor, std::string request_id, std::string session,
        std::optional<int64_t> since)
      : store(store),
        actor(std::move(actor)),
        request_id(std::move(request_id)),
        session(std::move(session)),
        replaying(since.has_value()),
        position(since.value_or(0)) {}

  // Whether the next batch needs the store: a replay page, or (for a feed that filters by
  // requester or session) events whose visibility is not remembered yet.
  bool NeedsStore() const {
    return replaying || !(actor.CanReadTenant() || !request_id.empty()) || !session.empty();
  }
  Result<Batch> Compute(size_t max);
  Result<bool> Visible(const Event& event);

  Store& store;
  const Actor actor;
  const std::string request_id;
  const std::string session;
  std::shared_ptr<EventSubscription> subscription;
  EventSubscription::Wake wake;
  bool replaying;
  std::atomic<int64_t> position;
  std::unordered_map<std::string, bool> visible;  // request id -> the feed may send it

  // With an offload: a batch computed there, waiting for Next(), and whether one is being.
  Mutex mu;
  std::optional<Result<Batch>> ready CS_GUARDED_BY(mu);
  bool in_flight CS_GUARDED_BY(mu) = false;
};

EventFeed::EventFeed(EventBus& bus, Store& store, Actor actor, std::string request_id,
                     std::optional<int64_t> since, std::string session, Offload offload)
    : bus_(bus),
      offload_(std::move(offload)),
      state_(std::make_shared<State>(store, std::move(actor), std::move(request_id),
                                     std::move(session), since)) {}

EventFeed::~EventFeed() { bus_.Unsubscribe(state_->subscription); }

void EventFeed::Start(EventSubscription::Wake wake) {
  if (state_->subscription) return;
  state_->wake = wake;
  state_->subscription = bus_.Subscribe(state_->actor.tenant, state_->request_id, std::move(wake));
}

int64_t EventFeed::position() const { return state_->position.load(std::memory_order_acquire); }
const Actor& EventFeed::actor() const { return state_->actor; }
const std::string& EventFeed::request_id() const { return state_->request_id; }

EventSubscription::State EventFeed::live_state() const {
  return state_->subscription ? state_->subscription->state() : EventSubscription::State::kOpen;
}

Result<EventFeed::Batch> EventFeed::Next(size_t max) {
  if (!state_->subscription) return Error::Internal("event feed used before Start()");
  max = std::max<size_t>(1, max);
  if (!offload_) return state_->Compute(max);
  {
    MutexLock lock(state_->mu);
    if (state_->ready) {
      Result<Batch> out = std::move(*state_->ready);
      state_->ready.reset();
      return out;
    }
    if (state_->in_flight) return Batch{};
    if (!state_->NeedsStore()) return state_->Compute(max);
    state_->in_flight = true;
  }
  const bool posted = offload_([state = state_, max] {
    Result<Batch> batch = state->Compute(max);
    {
      MutexLock lock(state->mu);
      state->ready = std::move(batch);
      state->in_flight = false;
    }
    if (state->wake) state->wake();
  });
  if (!posted) {
    MutexLock lock(state_->mu);
    state_->in_flight = false;
    return Error::Unavailable("the store is busy: too many reads are waiting");
  }
  // Nothing yet: the wake-up says when the batch is ready.
  return Batch{};
}

Result<EventFeed::Batch> EventFeed::State::Compute(size_t max) {
  Batch batch;
  if (replaying) {
    // A subscription that overflowed while the replay ran has lost live events: stop now.
    batch.state = subscription->state();
    if (batch.state != EventSubscription::State::kOpen) return batch;
    EventFilter filter;
    filter.tenant = actor.tenant;
    filter.request_id = request_id;
    filter.since = position.load();
    filter.limit = static_cast<int>(std::min(max, kMaxReplayPage));
    auto page = store.ListEvents(filter);
    if (!page.ok()) return std::move(page).error();
    if (page->size() < static_cast<size_t>(filter.limit)) replaying = false;
    for (auto& event : page.value()) {
      position.store(std::max(position.load(), event.seq), std::memory_order_release);
      if (event.request_id.empty()) continue;
      auto seen = Visible(event);
      if (!seen.ok()) return std::move(seen).error();
      if (seen.value()) batch.events.push_back(std::make_shared<const Event>(std::move(event)));
    }
    batch.more = replaying;
    return batch;
  }
  std::vector<EventPtr> taken;
  batch.state = subscription->Take(taken, max);
  for (auto& event : taken) {
    // Already replayed from the store.
    if (event->seq <= position.load()) continue;
    position.store(event->seq, std::memory_order_release);
    auto seen = Visible(*event);
    if (!seen.ok()) return std::move(seen).error();
    if (seen.value()) batch.events.push_back(std::move(event));
  }
  return batch;
}

Result<bool> EventFeed::State::Visible(const Event& event) {
  const bool own_only = !actor.CanReadTenant() && request_id.empty();
  if (!own_only && session.empty()) return true;
  auto known = visible.find(event.request_id);
  if (known != visible.end()) return known->second;
  const auto admits = [&](std::string_view requester, std::string_view in_session) {
    return (!own_only || requester == actor.name) && (session.empty() || in_session == session);
  };
  bool admitted = false;
  if (event.type == "request.created") {
    const auto* requester = event.data.if_contains("requester");
    const auto* in_session = event.data.if_contains("session");
    admitted = requester && requester->is_string() && in_session && in_session->is_string() &&
               admits(requester->get_string(), in_session->get_string());
  } else {
    auto found = store.GetRequest(actor.tenant, event.request_id);
    if (!found.ok()) return std::move(found).error();
    admitted = found.value() && admits(found.value()->requester, found.value()->session);
  }
  if (visible.size() >= kMaxRemembered) visible.clear();
  visible.emplace(event.request_id, admitted);
  return admitted;
}

Result<int64_t> EventFeed::PositionAt(Store& store, const std::string& tenant, TimePoint at) {
  // before(x): the first event after x was stamped before `at`. It holds for small x and, with
  // stamps in seq order, fails from some x on; that x is the answer.
  const auto before = [&](int64_t x) -> Result<bool> {
    EventFilter filter;
    filter.tenant = tenant;
    filter.since = x;
    filter.limit = 1;
    auto first = store.ListEvents(filter);
    if (!first.ok()) return std::move(first).error();
    return !first->empty() && first->front().at < at;
  };
  auto at_zero = before(0);
  if (!at_zero.ok()) return std::move(at_zero).error();
  if (!at_zero.value()) return int64_t{0};
  // Gallop to a bound past the answer, then halve: before(lo) holds, before(hi) does not.
  int64_t lo = 0;
  int64_t hi = 1;
  for (;;) {
    auto probe = before(hi);
    if (!probe.ok()) return std::move(probe).error();
    if (!probe.value()) break;
    lo = hi;
    hi = hi > INT64_MAX / 2 ? INT64_MAX : hi * 2;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto probe = before(mid);
    if (!probe.ok()) return std::move(probe).error();
    if (probe.value()) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return hi;
}

}  // namespace countersign
