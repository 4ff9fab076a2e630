#include "http/long_poll.hpp"

#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/clock_timer.hpp"
#include "http/engine_call.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// A long-poll while it waits: everything it needs, in one allocation.
struct LongPoll {
  LongPoll(const asio::any_io_executor& executor, Alarms& alarms, std::chrono::milliseconds after,
           std::string id, Actor actor, LongPollFinish finish, std::function<void()> gone)
      : timer(executor, alarms),
        request_id(std::move(id)),
        actor(std::move(actor)),
        finish(std::move(finish)),
        gone(std::move(gone)) {
    timer.ExpiresAfter(after);
  }
  ClockTimer timer;  // cancelled by the wake-up
  const std::string request_id;
  const Actor actor;
  const LongPollFinish finish;
  const std::function<void()> gone;
  uint64_t ticket = 0;
  RequestPtr resolved;  // set with `signalled`, on the timer's executor
  bool signalled = false;
  bool abandoned = false;  // the client went away; on the timer's executor
};

// The answer once the wait is over. A coroutine of its own, so that its frame (results and
// responses in flight) exists only while it answers, not during the wait.
asio::awaitable<HttpResponse> AnswerLongPoll(Gateway& gateway, std::shared_ptr<LongPoll> poll) {
  if (!poll->signalled) gateway.waiters().Remove(poll->request_id, poll->ticket);
  if (poll->abandoned) {
    // Nobody to answer.
    if (!poll->resolved && poll->gone) poll->gone();
    co_return HttpResponse();
  }
  if (poll->resolved && poll->resolved->tenant == poll->actor.tenant) {
    Result<RequestPtr> resolved = poll->resolved;
    co_return co_await poll->finish(std::move(resolved));
  }
  // Timed out, or the server is shutting down: answer with what the store holds now.
  auto current = co_await GetRequestFrom(gateway, poll->actor, poll->request_id);
  co_return co_await poll->finish(std::move(current));
}

// What a connection holds while its long-poll waits: this frame, the timer's wait and the poll.
asio::awaitable<HttpResponse> AwaitLongPoll(Gateway& gateway, std::shared_ptr<LongPoll> poll) {
  // The wake-up may have come already (while the read ran): a cancel then is lost.
  if (!poll->signalled && !poll->abandoned) co_await poll->timer.Wait();
  auto answer = AnswerLongPoll(gateway, std::move(poll));
  co_return co_await std::move(answer);
}

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
  auto poll = std::make_shared<LongPoll>(executor, gateway.alarms(), wait_for, id, actor,
                                         std::move(finish), std::move(gone));
  // Registered before the one read: a resolution after the read is then certain to wake the
  // poll, and one before it shows in what the read returns. (Reading first would need a second
  // read after registering, for a resolution in between.)
  // The wake-up holds only the poll, so it fits in the std::function without an allocation.
  poll->ticket = gateway.waiters().Add(id, [poll](RequestPtr resolved) {
    asio::post(poll->timer.get_executor(), [poll, resolved = std::move(resolved)]() mutable {
      poll->resolved = std::move(resolved);
      poll->signalled = true;
      poll->timer.Cancel();
    });
  });
  auto current = co_await GetRequestFrom(gateway, actor, id);
  if (!current.ok() || !current.value()->pending()) {
    gateway.waiters().Remove(id, poll->ticket);
    co_return co_await poll->finish(std::move(current));
  }
  // Thousands may wait at once: the wait goes on in a small coroutine of its own, after this
  // one, the router's and the request have gone, and it keeps no copy of the request.
  ctx.abandon = [poll] {
    poll->abandoned = true;
    poll->timer.Cancel();
  };
  ctx.deferred = AwaitLongPoll(gateway, std::move(poll));
  co_return HttpResponse();
}

}  // namespace countersign
