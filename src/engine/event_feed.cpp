#include "engine/event_feed.hpp"

#include <algorithm>
#include <cstdint>

namespace countersign {
namespace {

// The store's largest page.
constexpr size_t kMaxReplayPage = 1000;

}  // namespace

EventFeed::EventFeed(EventBus& bus, Store& store, Actor actor, std::string request_id,
                     std::optional<int64_t> since, std::string session)
    : bus_(bus),
      store_(store),
      actor_(std::move(actor)),
      request_id_(std::move(request_id)),
      session_(std::move(session)),
      replaying_(since.has_value()),
      position_(since.value_or(0)) {}

EventFeed::~EventFeed() { bus_.Unsubscribe(subscription_); }

void EventFeed::Start(EventSubscription::Wake wake) {
  if (subscription_) return;
  subscription_ = bus_.Subscribe(actor_.tenant, request_id_, std::move(wake));
}

EventSubscription::State EventFeed::live_state() const {
  return subscription_ ? subscription_->state() : EventSubscription::State::kOpen;
}

Result<EventFeed::Batch> EventFeed::Next(size_t max) {
  Batch batch;
  if (!subscription_) return Error::Internal("event feed used before Start()");
  max = std::max<size_t>(1, max);
  if (replaying_) {
    // A subscription that overflowed while the replay ran has lost live events: stop now.
    batch.state = subscription_->state();
    if (batch.state != EventSubscription::State::kOpen) return batch;
    EventFilter filter;
    filter.tenant = actor_.tenant;
    filter.request_id = request_id_;
    filter.since = position_;
    filter.limit = static_cast<int>(std::min(max, kMaxReplayPage));
    auto page = store_.ListEvents(filter);
    if (!page.ok()) return std::move(page).error();
    if (page->size() < static_cast<size_t>(filter.limit)) replaying_ = false;
    for (auto& event : page.value()) {
      position_ = std::max(position_, event.seq);
      if (event.request_id.empty()) continue;
      auto visible = Visible(event);
      if (!visible.ok()) return std::move(visible).error();
      if (visible.value()) batch.events.push_back(std::make_shared<const Event>(std::move(event)));
    }
    batch.more = replaying_;
    return batch;
  }
  std::vector<EventPtr> taken;
  batch.state = subscription_->Take(taken, max);
  for (auto& event : taken) {
    // Already replayed from the store.
    if (event->seq <= position_) continue;
    position_ = event->seq;
    auto visible = Visible(*event);
    if (!visible.ok()) return std::move(visible).error();
    if (visible.value()) batch.events.push_back(std::move(event));
  }
  return batch;
}

Result<bool> EventFeed::Visible(const Event& event) {
  const bool own_only = !actor_.CanReadTenant() && request_id_.empty();
  if (!own_only && session_.empty()) return true;
  auto known = visible_.find(event.request_id);
  if (known != visible_.end()) return known->second;
  const auto admits = [&](std::string_view requester, std::string_view session) {
    return (!own_only || requester == actor_.name) && (session_.empty() || session == session_);
  };
  bool visible = false;
  if (event.type == "request.created") {
    const auto* requester = event.data.if_contains("requester");
    const auto* session = event.data.if_contains("session");
    visible = requester && requester->is_string() && session && session->is_string() &&
              admits(requester->get_string(), session->get_string());
  } else {
    auto found = store_.GetRequest(actor_.tenant, event.request_id);
    if (!found.ok()) return std::move(found).error();
    visible = found.value() && admits(found.value()->requester, found.value()->session);
  }
  if (visible_.size() >= kMaxRemembered) visible_.clear();
  visible_.emplace(event.request_id, visible);
  return visible;
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
