// The audit sealer on a real store and gateway, on a fake clock: checkpoints come by count and
// by time, verify with the receipt key, reach the webhooks that want them, and a chain
// rewritten with every hash recomputed no longer passes verification.
#include "engine/audit_sealer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "auth/ed25519_receipt_signer.hpp"
#include "core/canonical_json.hpp"
#include "notify/channel_set.hpp"
#include "notify/outbox_notifier.hpp"
#include "notify/webhook_channel.hpp"
#include "store/write_sync.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using testing::GatewayHarness;

const Actor kOperator{"root", Role::kAdmin, "default", {}};

EventFilter EventsAfter(int64_t seq) {
  EventFilter filter;
  filter.since = seq;
  return filter;
}

class AuditSealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Ed25519ReceiptSigner::LoadOrCreate(harness_.dir().path());
    ASSERT_TRUE(signer.ok()) << signer.error().message;
    signer_ = std::move(signer).value();
    ASSERT_TRUE(harness_.Open({}, signer_.get()).ok());
    harness_.gateway().changes().Subscribe("test", [this](const std::vector<Event>& events) {
      for (const auto& e : events) {
        if (e.type != kAuditCheckpointEvent) continue;
        std::lock_guard lock(mu_);
        if (sealed_) sealed_->set_value(e.seq);
        sealed_.reset();
      }
    });
  }
  void TearDown() override {
    if (sealer_) sealer_->Stop();
    harness_.Close();
    sealer_.reset();
  }

  void StartSealer(AuditSealerOptions options, Notifier* notifier = nullptr) {
    sealer_ = std::make_unique<AuditSealer>(harness_.store(), harness_.gateway().alarms(), *signer_,
                                            options);
    sealer_->SetNotifier(notifier);
    sealer_->Start(harness_.gateway().changes());
  }

  // The seq of the next checkpoint committed from now on.
  std::future<int64_t> NextCheckpoint() {
    std::lock_guard lock(mu_);
    sealed_.emplace();
    return sealed_->get_future();
  }

  void Append(int n, const std::string& actor = "tester") {
    for (int i = 0; i < n; ++i) {
      Status s = WriteSync(harness_.store(), [&](Transaction& txn) -> Status {
        auto seq = txn.AppendEvent(
            {harness_.clock().Now(), "default", "", "test.event", actor, {{"i", i}}});
        if (!seq.ok()) return std::move(seq).error();
        return Ok();
      });
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
  }

  AuditVerification Verify(bool full = true) {
    auto verified = GatewayHarness::Call<AuditVerification>(
        [&](auto done) { harness_.gateway().VerifyAudit(kOperator, full, std::move(done)); });
    EXPECT_TRUE(verified.ok());
    return verified.ok() ? std::move(verified).value() : AuditVerification{};
  }

  ReceiptVerifier Keys() const { return ReceiptVerifier::FromJwks(signer_->Jwks()).value(); }

  GatewayHarness harness_;
  std::unique_ptr<Ed25519ReceiptSigner> signer_;
  std::unique_ptr<AuditSealer> sealer_;
  std::mutex mu_;
  std::optional<std::promise<int64_t>> sealed_;
};

TEST_F(AuditSealerTest, EveryNEventsACheckpointSignsTheEventBeforeIt) {
  StartSealer({.every_events = 3, .interval = 0s});
  auto sealed = NextCheckpoint();
  Append(3);
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  EXPECT_EQ(sealed.get(), 4);

  auto events = harness_.store().ListEvents(EventsAfter(3));
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const Event& checkpoint = events->front();
  EXPECT_EQ(checkpoint.type, kAuditCheckpointEvent);
  EXPECT_EQ(checkpoint.actor, AuditSealer::kActor);
  EXPECT_EQ(checkpoint.data.at("seq").as_int64(), 3);
  EXPECT_EQ(checkpoint.data.at("hash").as_string(), checkpoint.prev_hash);
  EXPECT_EQ(AuditSealer::Check(Keys(), checkpoint), "");

  const AuditVerification report = Verify();
  EXPECT_TRUE(report.report.ok) << report.report.reason;
  EXPECT_EQ(report.last_signed.seq, 3);
  EXPECT_EQ(report.last_signed.checkpoint_seq, 4);

  // A checkpoint is never signed twice in a row. The test heard of the checkpoint from the
  // change feed, which may run just before the sealer learns its write is done: until then a
  // second seal is refused as "being written", which is not what this checks.
  auto again = GatewayHarness::Call<int64_t>([&](auto done) { sealer_->SealNow(done); });
  for (int i = 0;
       i < 10000 && !again.ok() && again.error().message == "an audit checkpoint is being written";
       ++i) {
    std::this_thread::yield();
    again = GatewayHarness::Call<int64_t>([&](auto done) { sealer_->SealNow(done); });
  }
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again.value(), 0);
}

TEST_F(AuditSealerTest, AQuietChainIsSignedOnceTheIntervalPasses) {
  StartSealer({.every_events = 0, .interval = 60s});
  Append(2);
  auto sealed = NextCheckpoint();
  harness_.clock().Advance(59s);
  Append(1);  // commits after the 59 s; the timer has not fired
  EXPECT_EQ(harness_.store().GetAuditHead()->seq, 3);
  harness_.clock().Advance(1s);
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  EXPECT_EQ(sealed.get(), 4);
  EXPECT_EQ(harness_.store().GetAuditHead()->last_checkpoint_seq, 4);
}

TEST_F(AuditSealerTest, StartCountsTheUnsignedEventsAlreadyStored) {
  Append(5);
  auto sealed = NextCheckpoint();
  StartSealer({.every_events = 5, .interval = 0s});
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  EXPECT_EQ(sealed.get(), 6);
}

TEST_F(AuditSealerTest, ACheckpointGoesToTheWebhooksThatAskForIt) {
  ChannelSet channels;
  channels.AddWebhook(
      std::make_unique<WebhookChannel>("anchor", "https://anchor.example/in", "secret",
                                       std::vector<std::string>{std::string(kAuditCheckpointEvent)},
                                       harness_.clock()),
      "");
  channels.AddWebhook(
      std::make_unique<WebhookChannel>("other-tenant", "https://b.example/in", "s",
                                       std::vector<std::string>{}, harness_.clock()),
      "tenant-b");
  IdGenerator ids(harness_.clock());
  OutboxNotifier notifier(channels, ids);
  StartSealer({.every_events = 2, .interval = 0s}, &notifier);
  auto sealed = NextCheckpoint();
  Append(2);
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  const int64_t seq = sealed.get();

  auto rows = harness_.store().ListOutbox("", "", "", 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  const OutboxRow& row = rows->front();
  EXPECT_EQ(row.destination, "webhook:anchor");
  EXPECT_EQ(row.event, kAuditCheckpointEvent);
  EXPECT_EQ(row.event_seq, seq);
  const auto body = boost::json::parse(row.payload).as_object();
  EXPECT_TRUE(body.at("request").is_null());
  EXPECT_EQ(body.at("data").at("seq").as_int64(), seq - 1);
  const ReceiptVerdict verdict = Keys().VerifyJws(body.at("data").at("jws").as_string());
  ASSERT_TRUE(verdict.valid()) << verdict.reason;
  EXPECT_EQ(verdict.claims->at("typ").as_string(), AuditSealer::kStatementType);
}

// What someone who can write the database file does: change an event, then recompute every
// hash after it so the chain agrees with itself again.
void RewriteFrom(const std::string& path, int64_t seq, const std::string& actor) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT seq, at, tenant, request_id, type, actor, data, prev_hash "
                               "FROM events WHERE seq >= ?1 ORDER BY seq",
                               -1, &select, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(select, 1, seq);
  std::vector<Event> events;
  while (sqlite3_step(select) == SQLITE_ROW) {
    Event e;
    const auto text = [&](int column) {
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(select, column)));
    };
    e.seq = sqlite3_column_int64(select, 0);
    e.at = FromUnixMillis(sqlite3_column_int64(select, 1));
    e.tenant = text(2);
    e.request_id = text(3);
    e.type = text(4);
    e.actor = text(5);
    e.data = boost::json::parse(text(6)).as_object();
    e.prev_hash = text(7);
    events.push_back(std::move(e));
  }
  sqlite3_finalize(select);
  ASSERT_FALSE(events.empty());
  events.front().actor = actor;
  std::string prev = events.front().prev_hash;
  for (auto& e : events) {
    e.prev_hash = prev;
    e.hash = ChainHash(e);
    prev = e.hash;
    sqlite3_stmt* update = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  db, "UPDATE events SET actor = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4", -1,
                  &update, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(update, 1, e.actor.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(update, 2, e.prev_hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(update, 3, e.hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(update, 4, e.seq);
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
    sqlite3_finalize(update);
  }
  sqlite3_close(db);
}

TEST_F(AuditSealerTest, AChainRewrittenWithFreshHashesFailsAtTheCheckpoint) {
  StartSealer({.every_events = 4, .interval = 0s});
  auto sealed = NextCheckpoint();
  Append(4);
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  Append(2);
  sealer_->Stop();
  sealer_.reset();
  harness_.Close();

  RewriteFrom(harness_.dir().File("countersign.db"), 2, "mallory");
  ASSERT_TRUE(harness_.Open({}, signer_.get()).ok());
  auto chain = harness_.store().VerifyAudit();
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->ok) << "the hashes alone agree again: " << chain->reason;

  const AuditVerification report = Verify();
  EXPECT_FALSE(report.report.ok);
  EXPECT_EQ(report.report.first_bad_seq, 5);
  EXPECT_NE(report.report.reason.find("changed after they were signed"), std::string::npos)
      << report.report.reason;
  EXPECT_EQ(report.last_signed.seq, 0);
}

TEST_F(AuditSealerTest, ACheckpointSignedByAnotherKeyIsRefused) {
  StartSealer({.every_events = 2, .interval = 0s});
  auto sealed = NextCheckpoint();
  Append(2);
  ASSERT_EQ(sealed.wait_for(GatewayHarness::kBound), std::future_status::ready);
  auto events = harness_.store().ListEvents(EventsAfter(2));
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);

  testing::TempDir elsewhere;
  auto stranger = Ed25519ReceiptSigner::LoadOrCreate(elsewhere.path());
  ASSERT_TRUE(stranger.ok());
  const auto their_keys = ReceiptVerifier::FromJwks((*stranger)->Jwks()).value();
  const std::string wrong = AuditSealer::Check(their_keys, events->front());
  EXPECT_NE(wrong.find("bad signature"), std::string::npos) << wrong;

  Event forged = events->front();
  forged.data["jws"] =
      (*stranger)->SignJws(AuditSealer::Statement(2, forged.prev_hash, harness_.clock().Now()));
  EXPECT_NE(AuditSealer::Check(Keys(), forged).find("bad signature"), std::string::npos);
  forged.data.erase("jws");
  EXPECT_NE(AuditSealer::Check(Keys(), forged).find("carries no signature"), std::string::npos);
}

}  // namespace
}  // namespace countersign
