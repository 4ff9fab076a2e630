#include "notify/dispatcher.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/sha256.hpp"
#include "notify/curl_transport.hpp"
#include "notify/webhook_channel.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/write_sync.hpp"
#include "testing/fake_clock.hpp"
#include "testing/http_recorder.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpRecorder;

constexpr char kSecret[] = "0123456789abcdef0123";

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.File("countersign.db");
    auto opened = SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    channels_.AddWebhook(std::make_unique<WebhookChannel>("sink", receiver_.Url("/hook"), kSecret,
                                                          std::vector<std::string>{}, clock_),
                         "");
    Request r;
    r.id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
    r.action = "deploy";
    r.title = "Deploy";
    r.requester = "ci-bot";
    r.choices = DefaultChoices(Kind::kApproval);
    r.created_at = clock_.Now();
    r.deadline_at = clock_.Now() + seconds(300);
    ASSERT_TRUE(WriteSync(*store_, [&](Transaction& txn) { return txn.InsertRequest(r); }).ok());
    request_ = r;
  }

  std::unique_ptr<Dispatcher> MakeDispatcher(int max_attempts = 5) {
    DispatcherOptions options;
    options.max_attempts = max_attempts;
    options.retry_base = milliseconds(1000);
    options.retry_max = milliseconds(60000);
    options.call_timeout = milliseconds(5000);
    return std::make_unique<Dispatcher>(*store_, clock_, transport_, channels_, options);
  }

  OutboxRow Enqueue(const std::string& delivery_id, const std::string& destination = "webhook:sink",
                    const std::string& kind = "event") {
    OutboxRow row;
    row.delivery_id = delivery_id;
    row.tenant = "default";
    row.request_id = request_.id;
    row.destination = destination;
    row.kind = kind;
    row.event = "request.resolved";
    row.payload = R"({"event":"request.resolved","delivery":")" + delivery_id + R"("})";
    row.next_attempt_at = clock_.Now();
    row.created_at = clock_.Now();
    EXPECT_TRUE(WriteSync(*store_, [&](Transaction& txn) { return txn.InsertOutbox(row); }).ok());
    return row;
  }

  OutboxRow Row(const std::string& delivery_id) {
    auto rows = store_->ListOutbox("", "", "", 100);
    EXPECT_TRUE(rows.ok());
    for (const auto& r : rows.value()) {
      if (r.delivery_id == delivery_id) return r;
    }
    ADD_FAILURE() << "no outbox row " << delivery_id;
    return {};
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  HttpRecorder receiver_;
  // The receiver listens on loopback, which the outbound policy must be told to allow.
  CurlTransport transport_{OutboundPolicy::Make({{"127.0.0.1/32"}, false}, "test").value()};
  ChannelSet channels_;
  std::unique_ptr<SqliteStore> store_;
  Request request_;
};

TEST_F(DispatcherTest, SignedWebhookCarriesEventDeliveryIdTimestampAndHmacOfTimeAndBody) {
  OutboxRow row = Enqueue("dlv_1");
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);

  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook");
  EXPECT_EQ(got[0].body, row.payload);
  EXPECT_EQ(got[0].headers["content-type"], "application/json");
  EXPECT_EQ(got[0].headers["x-countersign-event"], "request.resolved");
  EXPECT_EQ(got[0].headers["x-countersign-delivery"], "dlv_1");
  const std::string timestamp =
      std::to_string(std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count());
  EXPECT_EQ(got[0].headers["x-countersign-timestamp"], timestamp);
  EXPECT_EQ(got[0].headers["x-countersign-signature"],
            "sha256=" + HmacSha256Hex(kSecret, timestamp + "." + row.payload));
  EXPECT_EQ(Row("dlv_1").state, "delivered");
  EXPECT_EQ(Row("dlv_1").attempts, 1);
}

TEST_F(DispatcherTest, TwoServerErrorsThenSuccessDeliversOnceOnTheThirdAttempt) {
  receiver_.Script({500, "boom", {}});
  receiver_.Script({503, "busy", {}});
  Enqueue("dlv_2");
  auto dispatcher = MakeDispatcher();

  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  OutboxRow after_first = Row("dlv_2");
  EXPECT_EQ(after_first.state, "pending");
  EXPECT_EQ(after_first.attempts, 1);
  EXPECT_EQ(after_first.last_error, "HTTP 500");
  // Backoff with jitter: between half and all of retry_base.
  EXPECT_GE(after_first.next_attempt_at, clock_.Now() + milliseconds(500));
  EXPECT_LE(after_first.next_attempt_at, clock_.Now() + milliseconds(1000));
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 0u);  // not due yet

  clock_.Set(after_first.next_attempt_at);
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  OutboxRow after_second = Row("dlv_2");
  EXPECT_EQ(after_second.attempts, 2);
  // The second backoff doubles: between 1 s and 2 s.
  EXPECT_GE(after_second.next_attempt_at, clock_.Now() + milliseconds(1000));
  EXPECT_LE(after_second.next_attempt_at, clock_.Now() + milliseconds(2000));

  clock_.Set(after_second.next_attempt_at);
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_2").state, "delivered");
  EXPECT_EQ(Row("dlv_2").attempts, 3);
  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& r : got) EXPECT_EQ(r.headers.at("x-countersign-delivery"), "dlv_2");
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 0u);  // delivered once, never again
}

TEST_F(DispatcherTest, RetryAfterOfA429IsHonouredToTheMillisecond) {
  receiver_.Script({429, "slow down", {{"Retry-After", "2"}}});
  Enqueue("dlv_3");
  auto dispatcher = MakeDispatcher();
  const TimePoint start = clock_.Now();

  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_3").next_attempt_at, start + seconds(2));
  clock_.Advance(milliseconds(1999));
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 0u);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_3").state, "delivered");
  EXPECT_EQ(receiver_.received().size(), 2u);
}

TEST_F(DispatcherTest, PermanentlyFailingTargetEndsFailedWithAnAuditEvent) {
  for (int i = 0; i < 3; ++i) receiver_.Script({500, "down", {}});
  Enqueue("dlv_4");
  auto dispatcher = MakeDispatcher(/*max_attempts=*/3);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(seconds(120));
    EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  }
  OutboxRow row = Row("dlv_4");
  EXPECT_EQ(row.state, "failed");
  EXPECT_EQ(row.attempts, 3);
  EXPECT_NE(row.last_error.find("gave up after 3 attempts"), std::string::npos);
  clock_.Advance(seconds(3600));
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 0u);

  auto events = store_->ListEvents({"default", request_.id, 0, 100});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->at(0).type, "notification.failed");
  EXPECT_EQ(events->at(0).data.at("delivery_id").as_string(), "dlv_4");
  EXPECT_EQ(events->at(0).data.at("destination").as_string(), "webhook:sink");
  EXPECT_EQ(events->at(0).data.at("attempts").as_int64(), 3);
}

TEST_F(DispatcherTest, AClientErrorFailsAtOnce) {
  receiver_.Script({404, "no such hook", {}});
  Enqueue("dlv_5");
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_5").state, "failed");
  // The receiver's body is not kept (issue 14): the status only.
  EXPECT_EQ(Row("dlv_5").last_error, "HTTP 404");
}

TEST_F(DispatcherTest, AnUnreachableReceiverIsRetried) {
  channels_.AddWebhook(std::make_unique<WebhookChannel>("dead", "http://127.0.0.1:1/x", kSecret,
                                                        std::vector<std::string>{}, clock_),
                       "");
  Enqueue("dlv_6", "webhook:dead");
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  OutboxRow row = Row("dlv_6");
  EXPECT_EQ(row.state, "pending");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_FALSE(row.last_error.empty());
}

TEST_F(DispatcherTest, ALaterRowOfTheSameRequestAndDestinationWaitsForTheEarlierOne) {
  receiver_.Script({500, "boom", {}});
  Enqueue("dlv_7");
  Enqueue("dlv_8");
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);  // only dlv_7; dlv_8 waits behind it
  EXPECT_EQ(Row("dlv_8").attempts, 0);
  clock_.Advance(seconds(2));
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);  // dlv_7 delivered
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);  // then dlv_8
  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].headers["x-countersign-delivery"], "dlv_8");
}

TEST_F(DispatcherTest, ARowForADestinationNoLongerConfiguredFails) {
  Enqueue("dlv_9", "webhook:removed");
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_9").state, "failed");
  EXPECT_TRUE(receiver_.received().empty());
}

TEST_F(DispatcherTest, PendingRowsSurviveReopeningTheStore) {
  Enqueue("dlv_10");
  store_.reset();
  SqliteStoreOptions options;
  options.path = dir_.File("countersign.db");
  auto reopened = SqliteStore::Open(options);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened).value();
  auto dispatcher = MakeDispatcher();
  EXPECT_EQ(dispatcher->DeliverDueForTest(), 1u);
  EXPECT_EQ(Row("dlv_10").state, "delivered");
}

// A webhook whose deliveries each wait until the test opens the gate, and which counts them.
class GatedWebhook final : public Channel {
 public:
  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "webhook"; }
  std::vector<std::string> KindsFor(std::string_view) const override { return {"event"}; }
  Result<OutboundCall> Render(const OutboxRow&, const Request&, std::string_view) const override {
    return Error::Invalid("GatedWebhook delivers without rendering");
  }
  DeliveryOutcome Deliver(const OutboxRow&, const Request&, std::string_view, HttpTransport&,
                          std::chrono::milliseconds) const override {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return DeliveryOutcome::Delivered();
  }

  void WaitUntilEntered(int n) const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  int entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }
  void Open() const {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  const std::string name_ = "gated";
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int entered_ = 0;
  mutable bool open_ = false;
};

// A scan that reads a row while its attempt is under way, and takes the lock again only after
// that attempt was recorded and ended, must not queue the row a second time.
TEST_F(DispatcherTest, ARowWhoseAttemptEndsDuringAScanIsNotSentAgain) {
  auto gated = std::make_unique<GatedWebhook>();
  const GatedWebhook& gate = *gated;
  channels_.AddWebhook(std::move(gated), "");
  Enqueue("dlv_11", "webhook:gated");

  auto dispatcher = MakeDispatcher();
  std::mutex mu;
  std::condition_variable cv;
  int scans = 0;
  bool hold = false;
  int in_flight_at_last_scan = -1;
  int sent_at_last_scan = -1;
  dispatcher->SetScanHookForTest([&] {
    std::unique_lock lock(mu);
    ++scans;
    cv.notify_all();
    if (hold) {
      // This scan read dlv_11 while it was being sent. Let that attempt end first.
      hold = false;
      gate.Open();
      lock.unlock();
      while (dispatcher->InFlightForTest() != 0) std::this_thread::yield();
      return;
    }
    in_flight_at_last_scan = static_cast<int>(dispatcher->InFlightForTest());
    sent_at_last_scan = gate.entered();
  });
  dispatcher->Start();
  gate.WaitUntilEntered(1);
  int scans_before = 0;
  {
    std::lock_guard lock(mu);
    hold = true;
    scans_before = scans;
  }
  dispatcher->Wake();
  // The held scan, then the one its ended attempt wakes.
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return scans >= scans_before + 2; });
  }
  dispatcher->Stop();
  EXPECT_EQ(in_flight_at_last_scan, 0);
  EXPECT_EQ(sent_at_last_scan, 1);
  EXPECT_EQ(gate.entered(), 1);
  EXPECT_EQ(Row("dlv_11").state, "delivered");
  EXPECT_EQ(Row("dlv_11").attempts, 1);
}

TEST(RetryAfterTest, ReadsDeltaSecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("2"), seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 30 "), seconds(30));
  EXPECT_EQ(ParseRetryAfter("999999"), seconds(86400));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
}

}  // namespace
}  // namespace countersign
