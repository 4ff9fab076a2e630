#include "http/long_poll.hpp"

#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/alarms.hpp"
#include "http/deferred_answer.hpp"
#include "http/engine_call.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// A long-poll while it waits: registered with the waiter hub, its timeout an alarm. It is all a
// waiting client's long-poll holds (the connection holds it as its DeferredAnswer): no timer
// object and no coroutine frame. Its state is touched on the connection's executor only; the
// hub's wake-up and the alarm post to it.
class LongPoll final : public DeferredAnswer, public std::enable_shared_from_this<LongPoll> {
 public:
  LongPoll(Gateway& gateway, asio::any_io_executor executor, std::chrono::milliseconds wait_for,
           std::string id, Actor actor, LongPollFinish finish, std::function<void()> gone)
      : gateway_(gateway),
        executor_(std::move(executor)),
        deadline_(gateway.alarms().Now() + wait_for),
        request_id_(std::move(id)),
        actor_(std::move(actor)),
        finish_(std::move(finish)),
        gone_(std::move(gone)) {}
  ~LongPoll() override { gateway_.alarms().Cancel(alarm_); }

  // Registers with the hub. The wake-up holds only the poll, so it fits in the std::function
  // without an allocation.
  void Register() {
    ticket_ = gateway_.waiters().Add(request_id_, [self = shared_from_this()](RequestPtr request) {
      asio::post(self->executor_, [self, request = std::move(request)]() mutable {
        self->End(std::move(request), true);
      });
    });
  }
  // Stops waiting at once: the read found the request resolved, or could not read it.
  void Unregister() {
    over_ = true;
    if (!signalled_) gateway_.waiters().Remove(request_id_, ticket_);
  }
  // Sets the alarm for the timeout (counted from the poll's creation, on the gateway's clock).
  void Arm() {
    if (over_) return;
    std::weak_ptr<LongPoll> weak = weak_from_this();
    alarm_ = gateway_.alarms().At(deadline_, [weak = std::move(weak)] {
      if (auto self = weak.lock()) {
        asio::post(self->executor_, [self] { self->End(nullptr, false); });
      }
    });
  }

  // The answer from what a read gave, without waiting.
  asio::awaitable<HttpResponse> AnswerWith(Result<RequestPtr> current) {
    return finish_(std::move(current));
  }

  void WhenReady(std::function<void()> ready) override {
    if (over_) {
      asio::post(executor_, std::move(ready));
      return;
    }
    ready_ = std::move(ready);
  }

  void Abandon() override {
    if (abandoned_) return;
    abandoned_ = true;
    End(nullptr, false);
  }

  asio::awaitable<HttpResponse> Answer() override {
    if (abandoned_) {
      // Nobody to answer.
      if (!resolved_ && gone_) gone_();
      co_return HttpResponse();
    }
    if (resolved_ && resolved_->tenant == actor_.tenant) {
      Result<RequestPtr> resolved = resolved_;
      co_return co_await finish_(std::move(resolved));
    }
    // Timed out, or the server is stopping: answer with what the store holds now.
    auto current = co_await GetRequestFrom(gateway_, actor_, request_id_);
    co_return co_await finish_(std::move(current));
  }

 private:
  // The wait is over: woken by the hub (`signalled`, with the request as it resolved, or
  // nullptr when the server is stopping), timed out, or abandoned. The first of them counts.
  void End(RequestPtr resolved, bool signalled) {
    if (signalled) signalled_ = true;
    if (over_) return;
    over_ = true;
    resolved_ = std::move(resolved);
    gateway_.alarms().Cancel(alarm_);
    alarm_ = {};
    if (!signalled_) gateway_.waiters().Remove(request_id_, ticket_);
    if (ready_) {
      auto ready = std::move(ready_);
      ready_ = nullptr;
      ready();
    }
  }

  Gateway& gateway_;
  const asio::any_io_executor executor_;  // the connection's
  const TimePoint deadline_;
  const std::string request_id_;
  const Actor actor_;
  const LongPollFinish finish_;
  const std::function<void()> gone_;
  std::function<void()> ready_;
  uint64_t ticket_ = 0;
  Alarms::Ticket alarm_;
  RequestPtr resolved_;     // set when the hub woke it with the resolved request
  bool signalled_ = false;  // the hub has woken it (and forgotten it)
  bool over_ = false;
  bool abandoned_ = false;  // the client went away
};

}  // namespace

asio::awaitable<HttpResponse> AnswerOnceResolved(Gateway& gateway, RequestContext& ctx, Actor actor,
                                                 std::string id, std::chrono::milliseconds wait_for,
                                                 LongPollFinish finish,
                                                 std::function<void()> gone) {
  if (wait_for.count() <= 0) {
    auto current = co_await GetRequestFrom(gateway, actor, id);
    co_return co_await finish(std::move(current));
  }
  auto executor = co_await asio::this_coro::executor;
  auto poll = std::make_shared<LongPoll>(gateway, executor, wait_for, id, actor, std::move(finish),
                                         std::move(gone));
  // Registered before the one read: a resolution after the read is then certain to wake the
  // poll, and one before it shows in what the read returns. (Reading first would need a second
  // read after registering, for a resolution in between.)
  poll->Register();
  auto current = co_await GetRequestFrom(gateway, actor, id);
  if (!current.ok() || !current.value()->pending()) {
    poll->Unregister();
    co_return co_await poll->AnswerWith(std::move(current));
  }
  poll->Arm();
  // Thousands may wait at once: the connection holds the poll after this coroutine, the
  // router's and the request have gone, and the poll keeps no copy of the request.
  ctx.deferred = std::move(poll);
  co_return HttpResponse();
}

}  // namespace countersign
