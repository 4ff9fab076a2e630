// The timers network code keeps take their time from the injected clock: ClockTimer, the
// stream signal, an engine call's deadline (AwaitUntil, as the chat hooks use it), and,
// through a real HttpServer on a loopback port, a long-poll's timeout and an event stream's
// heartbeat. Every test moves a FakeClock; none sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>

#include "auth/open_authenticator.hpp"
#include "core/id_generator.hpp"
#include "engine/alarms.hpp"
#include "engine/event_bus.hpp"
#include "engine/token_registry.hpp"
#include "http/api_handlers.hpp"
#include "http/clock_timer.hpp"
#include "http/engine_call.hpp"
#include "http/event_frames.hpp"
#include "http/http_server.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/stream_handlers.hpp"
#include "http/stream_signal.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::GatewayHarness;
using RequestPtr = Gateway::RequestPtr;

// Bounds how long a test waits for another thread; never a timing assertion.
constexpr auto kBound = std::chrono::seconds(30);

// Runs handlers on `io` (on this thread) until `done()` or the bound.
bool RunUntil(asio::io_context& io, const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kBound;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    io.restart();
    io.run_one_for(milliseconds(50));
  }
  return done();
}

// Waits (with the bound) until `done()`, which another thread makes true.
bool Eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kBound;
  while (!done() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  return done();
}

// Every alarm due by `when` has fired once this returns (alarms fire in order).
void AwaitAlarmsThrough(Alarms& alarms, TimePoint when) {
  auto reached = std::make_shared<std::atomic<bool>>(false);
  alarms.At(when, [reached] { reached->store(true); });
  ASSERT_TRUE(Eventually([&] { return reached->load(); }));
}

class ClockTimerTest : public ::testing::Test {
 protected:
  // Waits on `timer` in a coroutine; the result lands in `result`.
  void SpawnWait(ClockTimer& timer, std::optional<bool>& result) {
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { result = co_await timer.Wait(); }, asio::detached);
  }

  testing::FakeClock clock_;
  Alarms alarms_{clock_};
  asio::io_context io_;
};

TEST_F(ClockTimerTest, TheWaitEndsWhenTheClockReachesTheMoment) {
  ClockTimer timer(io_.get_executor(), alarms_);
  timer.ExpiresAfter(seconds(10));
  std::optional<bool> result;
  SpawnWait(timer, result);
  io_.poll();
  EXPECT_FALSE(result.has_value());

  clock_.Advance(seconds(9));
  AwaitAlarmsThrough(alarms_, clock_.Now());
  io_.poll();
  EXPECT_FALSE(result.has_value()) << "nine of ten seconds have passed";

  clock_.Advance(seconds(1));
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  EXPECT_TRUE(*result);
  EXPECT_TRUE(timer.expired());
}

TEST_F(ClockTimerTest, CancelEndsTheWaitAsNotExpiredAndDropsTheAlarm) {
  ClockTimer timer(io_.get_executor(), alarms_);
  timer.ExpiresAfter(seconds(10));
  std::optional<bool> result;
  SpawnWait(timer, result);
  io_.poll();
  EXPECT_EQ(alarms_.size(), 1u);
  timer.Cancel();
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  EXPECT_FALSE(*result);
  EXPECT_EQ(alarms_.size(), 0u);
}

TEST_F(ClockTimerTest, AMomentAlreadyPastEndsTheWaitAtOnce) {
  ClockTimer timer(io_.get_executor(), alarms_);
  timer.ExpiresAt(clock_.Now() - seconds(1));
  std::optional<bool> result;
  SpawnWait(timer, result);
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  EXPECT_TRUE(*result);
}

TEST_F(ClockTimerTest, SettingTheMomentAgainReplacesTheEarlierOne) {
  ClockTimer timer(io_.get_executor(), alarms_);
  timer.ExpiresAfter(seconds(5));
  timer.ExpiresAfter(seconds(20));
  EXPECT_EQ(alarms_.size(), 1u);
  std::optional<bool> result;
  SpawnWait(timer, result);

  clock_.Advance(seconds(5));
  AwaitAlarmsThrough(alarms_, clock_.Now());
  io_.poll();
  EXPECT_FALSE(result.has_value()) << "the first moment no longer counts";

  clock_.Advance(seconds(15));
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  EXPECT_TRUE(*result);
}

TEST_F(ClockTimerTest, ATimerGoneBeforeItsMomentLeavesNothingBehind) {
  {
    ClockTimer timer(io_.get_executor(), alarms_);
    timer.ExpiresAfter(seconds(1));
    EXPECT_EQ(alarms_.size(), 1u);
  }
  EXPECT_EQ(alarms_.size(), 0u);
  clock_.Advance(seconds(1));
  AwaitAlarmsThrough(alarms_, clock_.Now());
  EXPECT_EQ(io_.poll(), 0u) << "nothing was posted for the dead timer";
}

TEST_F(ClockTimerTest, TheStreamSignalTimesOutOnTheClockAndWakesOnNotify) {
  auto strand = asio::make_strand(io_);
  auto signal = std::make_shared<StreamSignal>(strand, alarms_);
  std::optional<bool> woken;
  asio::co_spawn(
      strand, [&]() -> asio::awaitable<void> { woken = co_await signal->Wait(seconds(15)); },
      asio::detached);
  io_.poll();
  clock_.Advance(seconds(15));
  ASSERT_TRUE(RunUntil(io_, [&] { return woken.has_value(); }));
  EXPECT_FALSE(*woken) << "the heartbeat interval passed";

  woken.reset();
  asio::co_spawn(
      strand, [&]() -> asio::awaitable<void> { woken = co_await signal->Wait(seconds(15)); },
      asio::detached);
  io_.poll();
  signal->Notify();
  ASSERT_TRUE(RunUntil(io_, [&] { return woken.has_value(); }));
  EXPECT_TRUE(*woken);
  EXPECT_EQ(alarms_.size(), 0u) << "the notified wait dropped its alarm";
}

// AwaitUntil is how a chat hook bounds its wait for the engine (2.5 s) and how every engine
// call gets its deadline.
TEST_F(ClockTimerTest, AwaitUntilGivesUpWhenTheClockPassesTheDeadline) {
  std::function<void(int)> never_answered;
  std::optional<std::optional<int>> outcome;
  const TimePoint deadline = clock_.Now() + milliseconds(2500);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        outcome = co_await AwaitUntil<int>(alarms_, deadline,
                                           [&](auto done) { never_answered = std::move(done); });
      },
      asio::detached);
  io_.poll();
  ASSERT_TRUE(never_answered) << "the engine was asked";
  clock_.Advance(milliseconds(2499));
  AwaitAlarmsThrough(alarms_, clock_.Now());
  io_.poll();
  EXPECT_FALSE(outcome.has_value());

  clock_.Advance(milliseconds(1));
  ASSERT_TRUE(RunUntil(io_, [&] { return outcome.has_value(); }));
  EXPECT_FALSE(outcome->has_value()) << "no answer: the deadline passed";
  never_answered(7);  // a late answer is dropped
  io_.poll();
  EXPECT_FALSE(outcome->has_value());
}

TEST_F(ClockTimerTest, AwaitUntilTakesAnAnswerBeforeTheDeadline) {
  std::optional<std::optional<int>> outcome;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        outcome = co_await AwaitUntil<int>(alarms_, clock_.Now() + seconds(10),
                                           [](auto done) { done(42); });
      },
      asio::detached);
  ASSERT_TRUE(RunUntil(io_, [&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->has_value());
  EXPECT_EQ(**outcome, 42);
  EXPECT_EQ(alarms_.size(), 0u) << "the deadline's alarm is gone with the answer";
}

// A loopback client with its own io_context, every read bounded.
class Client {
 public:
  explicit Client(const tcp::endpoint& server) { socket_.connect(server); }

  void Send(const std::string& raw) { asio::write(socket_, asio::buffer(raw)); }

  std::optional<HttpResponse> ReadResponse() {
    std::optional<HttpResponse> out;
    auto response = std::make_shared<HttpResponse>();
    http::async_read(socket_, buffer_, *response,
                     [&, response](boost::system::error_code ec, size_t) {
                       if (!ec) out = std::move(*response);
                     });
    io_.restart();
    io_.run_for(kBound);
    return out;
  }

  // Everything received up to and including `marker`, or nullopt.
  std::optional<std::string> ReadThrough(const std::string& marker) {
    std::optional<std::string> out;
    asio::async_read_until(socket_, asio::dynamic_buffer(text_), marker,
                           [&](boost::system::error_code ec, size_t n) {
                             if (!ec) {
                               out = text_.substr(0, n);
                               text_.erase(0, n);
                             }
                           });
    io_.restart();
    io_.run_for(kBound);
    return out;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
  std::string text_;
};

// The API and the event stream on a real HttpServer (auth off), on the harness's fake clock.
class ClockDrivenServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Engine calls here answer at once; their deadline must not be what a test's big step
    // of the clock ends.
    GatewayOptions gateway_options;
    gateway_options.call_deadline = std::chrono::hours(24);
    ASSERT_TRUE(harness_.Open(gateway_options).ok());
    Gateway& gateway = harness_.gateway();
    tokens_ = std::make_unique<TokenRegistry>(harness_.store(), harness_.clock(), ids_);
    router_ = std::make_unique<Router>(open_auth_, &gateway);
    ApiOptions api_options;
    api_options.auth_off = true;
    api_ = std::make_unique<ApiHandlers>(gateway, *tokens_, metrics_, api_options);
    api_->Register(*router_);
    streams_ = std::make_unique<StreamHandlers>(gateway, bus_);
    streams_->Register(*router_);
    HttpServerOptions options;
    options.stream_heartbeat = seconds(15);
    server_ = std::make_unique<HttpServer>(io_, *router_, metrics_, gateway.alarms(), options);
    auto bound = server_->Listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    endpoint_ = bound.value();
    server_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (!thread_.joinable()) return;  // SetUp failed
    server_->Shutdown();
    harness_.gateway().Stop();  // waiting long-polls answer
    thread_.join();
  }

  RequestPtr Create() {
    NewRequest input;
    input.action = "deploy_production";
    input.title = "Deploy v2.0";
    auto created = GatewayHarness::Call<Gateway::Created>([&](auto done) {
      harness_.gateway().Create(Actor{"ci", Role::kAdmin, "default", {}}, std::move(input),
                                std::move(done));
    });
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  static std::string Get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }

  std::string StatusOf(const HttpResponse& response) {
    auto body = boost::json::parse(response.body());
    return std::string(body.at("status").as_string());
  }

  GatewayHarness harness_;
  IdGenerator ids_{harness_.clock()};
  std::unique_ptr<TokenRegistry> tokens_;
  OpenAuthenticator open_auth_;
  std::unique_ptr<Router> router_;
  Metrics metrics_;
  EventBus bus_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<StreamHandlers> streams_;
  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  tcp::endpoint endpoint_;
  std::thread thread_;
};

TEST_F(ClockDrivenServerTest, ALongPollAnswersPendingOnceItsTimeoutHasPassedOnTheClock) {
  RequestPtr request = Create();
  ASSERT_TRUE(request);
  Client client(endpoint_);
  client.Send(Get("/v1/requests/" + request->id + "/wait?timeout=30"));
  ASSERT_TRUE(Eventually([&] { return harness_.gateway().waiters().size() == 1; }));

  harness_.clock().Advance(seconds(30));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value()) << "no answer after the timeout";
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_EQ(StatusOf(*response), "pending");
  EXPECT_TRUE(Eventually([&] { return harness_.gateway().waiters().size() == 0; }));
}

TEST_F(ClockDrivenServerTest, ALongPollStillWaitsJustBeforeItsTimeout) {
  RequestPtr request = Create();
  ASSERT_TRUE(request);
  Client client(endpoint_);
  client.Send(Get("/v1/requests/" + request->id + "/wait?timeout=30"));
  ASSERT_TRUE(Eventually([&] { return harness_.gateway().waiters().size() == 1; }));

  harness_.clock().Advance(seconds(29));
  AwaitAlarmsThrough(harness_.gateway().alarms(), harness_.clock().Now());
  NewDecision approve;
  approve.choice = "approve";
  auto decided = GatewayHarness::Call<RequestPtr>([&](auto done) {
    harness_.gateway().Decide(Actor{"alice", Role::kAdmin, "default", {}}, request->id, approve,
                              std::move(done));
  });
  ASSERT_TRUE(decided.ok()) << decided.error().message;

  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(StatusOf(*response), "approved") << "the poll had not given up at 29 s of 30";
}

TEST_F(ClockDrivenServerTest, AnIdleEventStreamSendsAHeartbeatEachIntervalOfTheClock) {
  Client client(endpoint_);
  client.Send(Get("/v1/events"));
  auto head = client.ReadThrough("\r\n\r\n");
  ASSERT_TRUE(head.has_value());
  EXPECT_NE(head->find("text/event-stream"), std::string::npos) << *head;

  // The stream is idle once its heartbeat alarm is set.
  Alarms& alarms = harness_.gateway().alarms();
  ASSERT_TRUE(Eventually([&] { return alarms.size() == 1; }));
  harness_.clock().Advance(seconds(15));
  auto beat = client.ReadThrough(kSseHeartbeat);
  ASSERT_TRUE(beat.has_value()) << "no heartbeat after 15 s of the clock";

  ASSERT_TRUE(Eventually([&] { return alarms.size() == 1; }));
  harness_.clock().Advance(seconds(15));
  EXPECT_TRUE(client.ReadThrough(kSseHeartbeat).has_value()) << "and again after 15 more";
}

}  // namespace
}  // namespace countersign
