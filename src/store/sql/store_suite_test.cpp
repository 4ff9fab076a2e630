// The store suite: every behaviour of the Store interface, run against SqliteStore and PgStore
// alike (StoreFixture). What only one store does is tested beside it: sqlite_store_test.cpp
// and postgres/pg_store_test.cpp.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/event.hpp"
#include "core/grant.hpp"
#include "store/store.hpp"
#include "testing/store_fixture.hpp"
#include "testing/store_test_values.hpp"
#include "testing/writer_blocker.hpp"

namespace countersign {
namespace {

using namespace countersign::testing;

const TimePoint kT0 = kStoreT0;

class StoreTest : public StoreFixture {
 protected:
  void Insert(const Request& request) {
    ASSERT_TRUE(
        WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertRequest(request); }).ok());
  }

  Request Get(const Request& request) {
    auto got = store_->GetRequest(request.tenant, request.id);
    EXPECT_TRUE(got.ok()) << got.error().message;
    EXPECT_TRUE(got.ok() && got->has_value()) << request.id << " not found";
    return got.ok() && got->has_value() ? **got : Request{};
  }
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest, ::testing::Values(kSqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, StoreTest, ::testing::Values(kPostgres));

TEST_P(StoreTest, DataSurvivesCloseAndReopenWithoutReapplyingMigrations) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  Insert(request);
  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) -> Status {
                auto event = txn.AppendEvent(
                    MakeDraft("default", "req_001", "request.created", {{"title", "Deploy v2.0"}}));
                if (!event.ok()) return std::move(event).error();
                return Ok();
              }).ok());
  store_->Stop();
  store_.reset();
  // SQLite's migrations are 001..013, PostgreSQL's 001..005 (PostgresStoreTest checks
  // which); re-opening must add none.
  const std::string migrations = RawQuery("SELECT count(*) FROM schema_migrations");
  EXPECT_EQ(migrations, postgres() ? "5" : "13");

  ASSERT_TRUE(OpenStore());
  ExpectSameRequest(Get(request), request);
  auto audit = store_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok);
  EXPECT_EQ(audit->events_checked, 1);
  store_.reset();
  EXPECT_EQ(RawQuery("SELECT count(*) FROM schema_migrations"), migrations);
}

TEST_P(StoreTest, CommitListenersHearOnlyTheEventsOfOperationsThatCommitted) {
  ASSERT_TRUE(OpenStore());
  std::mutex mu;
  std::vector<std::string> heard;
  store_->AddCommitListener([&](const std::vector<Event>& events) {
    std::lock_guard lock(mu);
    for (const auto& e : events) heard.push_back(e.request_id + ":" + std::to_string(e.seq));
  });
  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) -> Status {
                auto e = txn.AppendEvent(MakeDraft("default", "req_a", "request.created", {}));
                return e.ok() ? Ok() : Status(std::move(e).error());
              }).ok());
  // An operation that fails after appending: its event is rolled back and never heard.
  EXPECT_FALSE(WriteAndWait(*store_, [](Transaction& txn) -> Status {
                 auto e = txn.AppendEvent(MakeDraft("default", "req_b", "request.created", {}));
                 EXPECT_EQ(txn.AppendedEvents().size(), 1u);
                 return Error::Invalid("changed my mind");
               }).ok());
  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) -> Status {
                auto e = txn.AppendEvent(MakeDraft("default", "req_c", "request.created", {}));
                return e.ok() ? Ok() : Status(std::move(e).error());
              }).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(heard, (std::vector<std::string>{"req_a:1", "req_c:2"}));
}

TEST_P(StoreTest, OutboxRowsComeDueInOrderPerDestinationAndRequest) {
  ASSERT_TRUE(OpenStore());
  const auto row = [](std::string delivery, std::string destination, std::string request,
                      TimePoint due) {
    OutboxRow r;
    r.delivery_id = std::move(delivery);
    r.tenant = "default";
    r.request_id = std::move(request);
    r.destination = std::move(destination);
    r.kind = "post";
    r.event = "request.created";
    r.payload = "{}";
    r.next_attempt_at = due;
    r.created_at = kT0;
    return r;
  };
  std::vector<OutboxRow> rows = {row("d1", "slack", "req_1", kT0), row("d2", "slack", "req_1", kT0),
                                 row("d3", "teams", "req_1", kT0),
                                 row("d4", "slack", "req_2", kT0 + Millis(5000))};
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (auto& r : rows) CS_RETURN_IF_ERROR(txn.InsertOutbox(r));
                return Ok();
              }).ok());
  EXPECT_LT(rows[0].id, rows[1].id);
  const auto ids = [](const std::vector<OutboxRow>& due) {
    std::vector<std::string> out;
    for (const auto& r : due) out.push_back(r.delivery_id);
    return out;
  };
  auto due = store_->ListDueOutbox(kT0, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(ids(*due), (std::vector<std::string>{"d1", "d3"}));  // d2 waits behind d1
  EXPECT_EQ(store_->NextOutboxDue().value(), std::optional<TimePoint>(kT0));

  rows[0].state = "delivered";
  rows[0].attempts = 1;
  ASSERT_TRUE(
      WriteAndWait(*store_, [&](Transaction& txn) { return txn.UpdateOutbox(rows[0]); }).ok());
  due = store_->ListDueOutbox(kT0 + Millis(5000), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(ids(*due), (std::vector<std::string>{"d2", "d3", "d4"}));
  auto counts = store_->CountOutboxByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->at("pending"), 3);
  EXPECT_EQ(counts->at("delivered"), 1);

  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) {
                return txn.PutChannelMessage("req_1", "slack", R"({"ts":"1.0"})");
              }).ok());
  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) {
                return txn.PutChannelMessage("req_1", "slack", R"({"ts":"2.0"})");
              }).ok());
  EXPECT_EQ(store_->FindChannelMessage("req_1", "slack").value(), R"({"ts":"2.0"})");
  EXPECT_EQ(store_->FindChannelMessage("req_1", "teams").value(), "");
}

TEST_P(StoreTest, RetryOutboxMakesAPendingOrFailedRowDueNowAndLeavesADeliveredOne) {
  ASSERT_TRUE(OpenStore());
  const auto row = [](std::string delivery, std::string tenant, std::string state, int attempts) {
    OutboxRow r;
    r.delivery_id = std::move(delivery);
    r.tenant = std::move(tenant);
    r.request_id = "req_1";
    r.destination = "webhook:sink";
    r.kind = "event";
    r.event = "request.created";
    r.payload = "{}";
    r.next_attempt_at = kT0 + Millis(60000);
    r.created_at = kT0;
    r.state = std::move(state);
    r.attempts = attempts;
    r.last_error = r.state == "pending" ? "" : "HTTP 503";
    return r;
  };
  std::vector<OutboxRow> rows = {
      row("d_pending", "default", "pending", 2), row("d_failed", "default", "failed", 8),
      row("d_done", "default", "delivered", 1), row("d_other", "acme", "failed", 8)};
  rows[3].request_id = "req_2";
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (auto& r : rows) {
                  OutboxRow stored = r;
                  CS_RETURN_IF_ERROR(txn.InsertOutbox(stored));
                  r.id = stored.id;
                  CS_RETURN_IF_ERROR(txn.UpdateOutbox(r));
                }
                return Ok();
              }).ok());
  const TimePoint now = kT0 + Millis(1000);
  const auto retry = [&](std::string tenant, std::string delivery) {
    std::optional<OutboxRow> out;
    EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                  auto retried = txn.RetryOutbox(tenant, delivery, now);
                  if (!retried.ok()) return std::move(retried).error();
                  out = std::move(retried).value();
                  return Ok();
                }).ok());
    return out;
  };

  auto pending = retry("default", "d_pending");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->state, "pending");
  EXPECT_EQ(pending->attempts, 2);  // a pending row keeps its count
  EXPECT_EQ(pending->next_attempt_at, now);

  auto failed = retry("default", "d_failed");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->state, "pending");
  EXPECT_EQ(failed->attempts, 0);  // a given-up row starts over
  EXPECT_EQ(failed->next_attempt_at, now);
  EXPECT_EQ(failed->last_error, "HTTP 503");

  auto done = retry("default", "d_done");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, "delivered");
  EXPECT_EQ(done->next_attempt_at, kT0 + Millis(60000));

  // Another tenant's row is not found from this tenant, and stays as it was; the operator
  // scope (empty) finds it.
  EXPECT_FALSE(retry("default", "d_other").has_value());
  EXPECT_FALSE(retry("default", "d_missing").has_value());
  auto other = store_->ListOutbox("acme", "failed", "", 10);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].attempts, 8);
  auto operator_retry = retry("", "d_other");
  ASSERT_TRUE(operator_retry.has_value());
  EXPECT_EQ(operator_retry->state, "pending");

  auto due = store_->ListDueOutbox(now, 10);
  ASSERT_TRUE(due.ok());
  std::vector<std::string> ids;
  for (const auto& r : *due) ids.push_back(r.delivery_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d_pending", "d_other"}));  // d_failed waits behind
}

TEST_P(StoreTest, OutboxRowsForDifferentTargetsDoNotWaitForEachOther) {
  ASSERT_TRUE(OpenStore());
  const auto row = [](std::string delivery, std::string target) {
    OutboxRow r;
    r.delivery_id = std::move(delivery);
    r.tenant = "default";
    r.request_id = "req_1";
    r.destination = "mail";
    r.kind = "post";
    r.event = "request.created";
    r.target = std::move(target);
    r.payload = "{}";
    r.next_attempt_at = kT0;
    r.created_at = kT0;
    return r;
  };
  // Two recipients, a second message to the first, and a row without a target (an edit of
  // the channel's own message), which waits for everything before it.
  std::vector<OutboxRow> rows = {row("a1", "alice@example.com"), row("b1", "bob@example.com"),
                                 row("a2", "alice@example.com"), row("e1", "")};
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (auto& r : rows) CS_RETURN_IF_ERROR(txn.InsertOutbox(r));
                return Ok();
              }).ok());
  auto due = store_->ListDueOutbox(kT0, 10);
  ASSERT_TRUE(due.ok());
  std::vector<std::string> ids;
  for (const auto& r : *due) ids.push_back(r.delivery_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "b1"}));
}

TEST_P(StoreTest, ADatabaseWithANewerSchemaVersionIsRefused) {
  ASSERT_TRUE(OpenStore());
  store_.reset();
  RawExec(
      "INSERT INTO schema_migrations (version, name, applied_at) "
      "VALUES (999, '999_future.sql', 0)");
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(opened.error().message, "999"));
  EXPECT_TRUE(HasText(opened.error().message, "newer"));
}

TEST_P(StoreTest, InsertThenGetRoundTripsEveryRequestFieldAndDecision) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  request.status = RequestStatus::kApproved;
  request.resolved_at = kT0 + Millis(5000);
  request.resolved_by = {"alice", "bob"};
  request.escalation_level = 2;
  request.answer = "yes, go";
  request.choices.push_back({"later", "Later \u2014 \"maybe\"", "default", Outcome::kEscalate});
  Decision plain = MakeDecision("dec_1", request, "alice", kT0 + Millis(1000));
  Decision edited = MakeDecision("dec_2", request, "bob", kT0 + Millis(2000));
  edited.comment = "";
  edited.answer = "free text";
  edited.outcome = Outcome::kAnswered;
  edited.arguments = boost::json::object{{"ref", "v2.0.1"}, {"unicode", "\u00e9\u4e2d"}};
  edited.response = boost::json::object{{"replicas", 3}, {"regions", {"eu", "us"}}};
  request.response_schema = boost::json::object{
      {"type", "object"}, {"properties", {{"replicas", {{"type", "integer"}}}}}};
  request.decisions = {plain, edited};
  request.reason_code = ReasonCode::kApprovedByGrant;
  request.grant_options = {{"session", std::chrono::seconds(3600)},
                           {"requester", std::chrono::seconds(86400)}};
  request.receipt_use = "single_use";
  request.report_within = std::chrono::seconds(900);
  request.execution = ExecutionReport{"failed", 3, "exit 3", "ci-bot", kT0 + Millis(9000)};

  std::optional<Request> found_in_txn;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                if (auto s = txn.InsertRequest(request); !s.ok()) return s;
                // Inserted out of time order: reads must still list them oldest first.
                if (auto s = txn.InsertDecision(request, edited); !s.ok()) return s;
                if (auto s = txn.InsertDecision(request, plain); !s.ok()) return s;
                auto found = txn.FindRequest(request.tenant, request.id);
                if (!found.ok()) return std::move(found).error();
                found_in_txn = *found;
                return Ok();
              }).ok());

  ExpectSameRequest(Get(request), request);
  ASSERT_TRUE(found_in_txn.has_value());
  ExpectSameRequest(*found_in_txn, request);
  EXPECT_FALSE(Get(request).decisions[0].arguments.has_value());
  EXPECT_FALSE(Get(request).decisions[0].response.has_value());
}

// JSON text may carry U+0000 ("\u0000"). A store keeps such text whole or refuses the write; it
// never stores a shortened copy (a shortened event would then fail the audit chain's hash).
TEST_P(StoreTest, TextWithANulCharacterIsKeptWholeOrRefusedNeverCutShort) {
  ASSERT_TRUE(OpenStore());
  const std::string nul_text("before\0after", 12);
  Request request = MakeRequest("req_001");
  request.title = nul_text;
  Status inserted =
      WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertRequest(request); });
  if (inserted.ok()) {
    EXPECT_EQ(Get(request).title, nul_text);
  } else {
    EXPECT_NE(inserted.error().code, ErrorCode::kUnavailable) << inserted.error().message;
    EXPECT_FALSE(store_->GetRequest("default", "req_001")->has_value());
  }

  EventDraft draft = MakeDraft("default", "req_002", "request.created", {{"note", nul_text}});
  draft.actor = nul_text;
  Status appended = WriteAndWait(*store_, [&](Transaction& txn) -> Status {
    auto seq = txn.AppendEvent(draft);
    return seq.ok() ? Ok() : Status(std::move(seq).error());
  });
  if (appended.ok()) {
    auto events = store_->ListEvents(Events());
    ASSERT_TRUE(events.ok()) << events.error().message;
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].actor, nul_text);
    EXPECT_EQ((*events)[0].data, draft.data);
  }
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->ok) << report->reason << " at " << report->first_bad_seq;
}

TEST_P(StoreTest, APendingRequestRoundTripsWithNoResolution) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  request.kind = Kind::kQuestion;
  request.choices = DefaultChoices(Kind::kQuestion);
  request.details = {};
  request.arguments = {};
  request.callback_url = "";
  Insert(request);
  Request got = Get(request);
  ExpectSameRequest(got, request);
  EXPECT_FALSE(got.resolved_at.has_value());
  EXPECT_TRUE(got.pending());
}

TEST_P(StoreTest, GetRequestDoesNotSeeAnotherTenantsRequest) {
  ASSERT_TRUE(OpenStore());
  Insert(MakeRequest("req_001", "acme"));
  auto got = store_->GetRequest("default", "req_001");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  auto missing = store_->GetRequest("acme", "req_999");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, ResolveIfPendingIsACompareAndSet) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  Insert(request);
  Result<bool> first = false;
  Result<bool> second = false;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                first = txn.ResolveIfPending("req_001", RequestStatus::kApproved, kT0 + Millis(10),
                                             {"alice", "bob"}, "", ReasonCode::kApproved, "");
                return Ok();
              }).ok());
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                second = txn.ResolveIfPending("req_001", RequestStatus::kDenied, kT0 + Millis(20),
                                              {"mallory"}, "late", ReasonCode::kDeniedByPerson, "");
                return Ok();
              }).ok());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  Request got = Get(request);
  EXPECT_EQ(got.status, RequestStatus::kApproved);
  EXPECT_EQ(got.resolved_by, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(got.resolved_at, kT0 + Millis(10));
  EXPECT_EQ(got.answer, "");

  Result<bool> unknown = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                unknown = txn.ResolveIfPending("req_404", RequestStatus::kApproved, kT0, {}, "",
                                               ReasonCode::kApproved, "");
                return Ok();
              }).ok());
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
}

TEST_P(StoreTest, EscalateIfPendingChangesOnlyAPendingRequest) {
  ASSERT_TRUE(OpenStore());
  Request pending = MakeRequest("req_001");
  Request done = MakeRequest("req_002");
  done.status = RequestStatus::kExpired;
  done.resolved_at = kT0;
  Insert(pending);
  Insert(done);
  Result<bool> escalated = false;
  Result<bool> not_escalated = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                escalated =
                    txn.EscalateIfPending("req_001", 1, kT0 + Millis(60000), {"group:leads"});
                not_escalated =
                    txn.EscalateIfPending("req_002", 1, kT0 + Millis(60000), {"group:leads"});
                return Ok();
              }).ok());
  ASSERT_TRUE(escalated.ok() && not_escalated.ok());
  EXPECT_TRUE(*escalated);
  EXPECT_FALSE(*not_escalated);
  EXPECT_EQ(Get(pending).escalation_level, 1);
  EXPECT_EQ(Get(pending).deadline_at, kT0 + Millis(60000));
  EXPECT_EQ(Get(pending).approvers, std::vector<std::string>{"group:leads"});
  EXPECT_EQ(Get(done).escalation_level, 0);
  EXPECT_EQ(Get(done).deadline_at, done.deadline_at);
}

TEST_P(StoreTest, ADecisionForAnUnknownRequestIsRefused) {
  ASSERT_TRUE(OpenStore());
  Request ghost = MakeRequest("req_ghost");
  Status status = WriteAndWait(*store_, [&](Transaction& txn) {
    return txn.InsertDecision(ghost, MakeDecision("dec_1", ghost, "alice", kT0));
  });
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(HasTextIgnoringCase(status.error().message, "FOREIGN KEY"));
}

TEST_P(StoreTest, OneFailingOperationInABatchRollsBackOnlyItsOwnWrites) {
  ASSERT_TRUE(OpenStore());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5;
  constexpr int kFailing = 17;
  std::mutex mu;
  std::map<int, Status> results;
  std::latch all_done(kThreads * kPerThread);
  {
    WriterBlocker blocker(*store_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kPerThread; ++k) {
          const int n = t * kPerThread + k;
          store_->Write(
              [n](Transaction& txn) -> Status {
                char id[16];
                std::snprintf(id, sizeof id, "req_%03d", n);
                if (auto s = txn.InsertRequest(MakeRequest(id)); !s.ok()) return s;
                auto event = txn.AppendEvent(MakeDraft("default", id, "request.created", {}));
                if (!event.ok()) return std::move(event).error();
                if (n == kFailing) return Error::Conflict("operation 17 changed its mind");
                return Ok();
              },
              [&, n](Status status) {
                {
                  std::lock_guard lock(mu);
                  results.emplace(n, std::move(status));
                }
                all_done.count_down();
              });
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(store_->Stats().queue_depth, static_cast<uint64_t>(kThreads * kPerThread));
  }
  all_done.wait();

  EXPECT_EQ(store_->Stats().batches, 2u);  // the blocker's, then all 40 together
  ASSERT_EQ(results.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [n, status] : results) {
    char id[16];
    std::snprintf(id, sizeof id, "req_%03d", n);
    auto got = store_->GetRequest("default", id);
    ASSERT_TRUE(got.ok());
    if (n == kFailing) {
      ASSERT_FALSE(status.ok());
      EXPECT_EQ(status.error().code, ErrorCode::kConflict);
      EXPECT_FALSE(got->has_value()) << "the failing operation's insert was committed";
    } else {
      EXPECT_TRUE(status.ok()) << n << ": " << status.error().message;
      EXPECT_TRUE(got->has_value()) << id << " is missing";
    }
  }
  // The failing operation's event was rolled back too, and the chain has no hole.
  auto events = store_->ListEvents(Events("", "", 0, 1000));
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), static_cast<size_t>(kThreads * kPerThread - 1));
  auto audit = store_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->reason << " at " << audit->first_bad_seq;
}

TEST_P(StoreTest, AnOperationThatThrowsFailsAloneWithAnInternalError) {
  ASSERT_TRUE(OpenStore());
  std::promise<Status> thrown;
  std::promise<Status> fine;
  {
    WriterBlocker blocker(*store_);
    store_->Write(
        [](Transaction& txn) -> Status {
          (void)txn.InsertRequest(MakeRequest("req_001"));
          throw std::runtime_error("boom");
        },
        [&](Status s) { thrown.set_value(std::move(s)); });
    store_->Write([](Transaction& txn) { return txn.InsertRequest(MakeRequest("req_002")); },
                  [&](Status s) { fine.set_value(std::move(s)); });
  }
  Status thrown_status = thrown.get_future().get();
  ASSERT_FALSE(thrown_status.ok());
  EXPECT_EQ(thrown_status.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(thrown_status.error().message, "boom"));
  EXPECT_TRUE(fine.get_future().get().ok());
  EXPECT_FALSE(store_->GetRequest("default", "req_001")->has_value());
  EXPECT_TRUE(store_->GetRequest("default", "req_002")->has_value());
}

// An operation's own kUnavailable (its caller's "try again later") is a failure like any other:
// it rolls back alone, and the store is not thereby in an outage.
TEST_P(StoreTest, AnOperationThatFailsWithUnavailableFailsAloneAndTheWriterStaysHealthy) {
  ASSERT_TRUE(OpenStore());
  std::promise<Status> refused;
  std::promise<Status> fine;
  {
    WriterBlocker blocker(*store_);
    store_->Write(
        [](Transaction& txn) -> Status {
          CS_RETURN_IF_ERROR(txn.InsertRequest(MakeRequest("req_001")));
          return Error::Unavailable("the approvers' directory is down");
        },
        [&](Status s) { refused.set_value(std::move(s)); });
    store_->Write([](Transaction& txn) { return txn.InsertRequest(MakeRequest("req_002")); },
                  [&](Status s) { fine.set_value(std::move(s)); });
  }
  Status refused_status = refused.get_future().get();
  ASSERT_FALSE(refused_status.ok());
  EXPECT_EQ(refused_status.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused_status.error().message, "the approvers' directory is down");
  Status fine_status = fine.get_future().get();
  EXPECT_TRUE(fine_status.ok()) << fine_status.error().message;
  EXPECT_TRUE(store_->WriterHealth().ok()) << store_->WriterHealth().error().message;
  EXPECT_FALSE(store_->GetRequest("default", "req_001")->has_value());
  EXPECT_TRUE(store_->GetRequest("default", "req_002")->has_value());
}

TEST_P(StoreTest, DoneRunsAfterCommitSoAReadThroughThePoolSeesTheWrite) {
  ASSERT_TRUE(OpenStore(/*read_connections=*/1));
  std::promise<Result<std::optional<Request>>> seen;
  store_->Write([](Transaction& txn) { return txn.InsertRequest(MakeRequest("req_001")); },
                [&](Status status) {
                  EXPECT_TRUE(status.ok());
                  seen.set_value(store_->GetRequest("default", "req_001"));
                });
  auto got = seen.get_future().get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->has_value());
}

TEST_P(StoreTest, WritesQueuedWhileTheWriterIsBusyAreCommittedInOneBatch) {
  ASSERT_TRUE(OpenStore());
  constexpr int kThreads = 8;
  constexpr int kWrites = 199;  // plus the blocker: 200 operations
  std::latch all_done(kWrites);
  std::atomic<int> failures{0};
  {
    WriterBlocker blocker(*store_);
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int n = next++; n < kWrites; n = next++) {
          store_->Write(
              [n](Transaction& txn) {
                return txn.InsertRequest(MakeRequest("req_" + std::to_string(1000 + n)));
              },
              [&](Status status) {
                if (!status.ok()) ++failures;
                all_done.count_down();
              });
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(store_->Stats().queue_depth, static_cast<uint64_t>(kWrites));
  }
  all_done.wait();
  StoreStats stats = store_->Stats();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stats.operations, 200u);
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.queue_depth, 0u);
  // Both batches were committed with an fsync, which takes time; the histogram is cumulative
  // (StoreStatsTest checks the bucketing itself), so no bucket counts more than the next.
  EXPECT_GT(stats.commit_ms_sum, 0.0);
  for (size_t i = 1; i < std::size(stats.commit_buckets); ++i) {
    EXPECT_LE(stats.commit_buckets[i - 1], stats.commit_buckets[i]) << "bucket " << i;
  }
  EXPECT_LE(stats.commit_buckets[std::size(stats.commit_buckets) - 1], stats.batches);
  auto counts = store_->CountRequestsByStatus();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["pending"], kWrites);
}

TEST_P(StoreTest, AFullQueueFailsAtOnceAndTheOperationNeverRuns) {
  ASSERT_TRUE(OpenStore(/*read_connections=*/4, /*max_queue=*/3));
  std::latch queued_done(3);
  bool refused_ran = false;
  std::optional<Status> refused_status;
  std::thread::id refused_thread;
  {
    WriterBlocker blocker(*store_);
    for (int i = 0; i < 3; ++i) {
      store_->Write([](Transaction&) { return Ok(); },
                    [&](Status s) {
                      EXPECT_TRUE(s.ok());
                      queued_done.count_down();
                    });
    }
    store_->Write(
        [&](Transaction&) {
          refused_ran = true;
          return Ok();
        },
        [&](Status s) {
          refused_thread = std::this_thread::get_id();
          refused_status = std::move(s);
        });
    // Called synchronously, before Write() returned, on this thread.
    ASSERT_TRUE(refused_status.has_value());
    EXPECT_EQ(refused_thread, std::this_thread::get_id());
    ASSERT_FALSE(refused_status->ok());
    EXPECT_EQ(refused_status->error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(HasText(refused_status->error().message, "full"));
  }
  queued_done.wait();
  store_->Stop();
  EXPECT_FALSE(refused_ran);
}

TEST_P(StoreTest, StopCommitsQueuedWritesAndRefusesLaterOnes) {
  // A queue no loop below can fill before the stopper thread runs: the refusal must be
  // Stop()'s, not a full queue's (which a quiet machine reached with 10,000 places).
  ASSERT_TRUE(OpenStore(4, 1'000'000));
  std::mutex mu;
  std::vector<Status> results;
  int accepted = 0;
  auto record = [&](Status s) {
    std::lock_guard lock(mu);
    results.push_back(std::move(s));
  };
  auto insert = [](int n) {
    return [n](Transaction& txn) {
      return txn.InsertRequest(MakeRequest("req_" + std::to_string(100 + n)));
    };
  };
  std::optional<Status> refused;
  {
    WriterBlocker blocker(*store_);
    for (; accepted < 5; ++accepted) store_->Write(insert(accepted), record);
    std::thread stopper([&] { store_->Stop(); });
    // Until Stop() has flagged the store, writes are still queued (and must be committed).
    // A refusal completes at once on this thread; accepted writes complete on the writer.
    const auto this_thread = std::this_thread::get_id();
    for (;;) {
      store_->Write(insert(accepted), [&, this_thread](Status s) {
        if (std::this_thread::get_id() == this_thread) {
          refused = std::move(s);
        } else {
          record(std::move(s));
        }
      });
      if (refused) break;
      ++accepted;
      std::this_thread::yield();
    }
    blocker.Release();
    stopper.join();
  }
  ASSERT_TRUE(refused.has_value());
  ASSERT_FALSE(refused->ok());
  EXPECT_EQ(refused->error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(HasText(refused->error().message, "shutting down"));
  ASSERT_EQ(results.size(), static_cast<size_t>(accepted));
  for (const auto& s : results) EXPECT_TRUE(s.ok());
  auto counts = store_->CountRequestsByStatus();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["pending"], accepted);

  // Stop() is idempotent, and reads still work after it.
  store_->Stop();
  EXPECT_TRUE(store_->Ping().ok());
}

// A `done` may call Stop() (store.hpp): it stops intake at once without waiting for its own
// thread, and a Stop() from outside afterwards finishes the job.
TEST_P(StoreTest, StopFromInsideADoneStopsIntakeWithoutDeadlock) {
  ASSERT_TRUE(OpenStore());
  std::promise<Status> first;
  store_->Write([](Transaction& txn) { return txn.InsertRequest(MakeRequest("req_001")); },
                [&](Status s) {
                  store_->Stop();
                  first.set_value(std::move(s));
                });
  Status first_status = first.get_future().get();
  EXPECT_TRUE(first_status.ok()) << first_status.error().message;
  Status refused = WriteAndWait(
      *store_, [](Transaction& txn) { return txn.InsertRequest(MakeRequest("req_002")); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(HasText(refused.error().message, "shutting down"));
  store_->Stop();
  EXPECT_TRUE(store_->GetRequest("default", "req_001")->has_value());
  EXPECT_FALSE(store_->GetRequest("default", "req_002")->has_value());
}

TEST_P(StoreTest, ListRequestsAppliesEachFilterWithinTheTenant) {
  ASSERT_TRUE(OpenStore());
  std::vector<Request> all;
  for (int i = 0; i < 12; ++i) {
    Request r = MakeRequest("req_" + std::to_string(100 + i), i % 4 == 3 ? "other" : "default");
    r.status = i % 3 == 0 ? RequestStatus::kApproved : RequestStatus::kPending;
    r.action = i % 2 == 0 ? "deploy" : "wipe";
    r.requester = i < 6 ? "ci-bot" : "agent-7";
    r.session = i % 4 == 1 ? "s1" : "";
    all.push_back(r);
    Insert(r);
  }
  auto ids = [&](const std::function<void(RequestFilter&)>& narrow) {
    RequestFilter filter = Requests("default", 500);
    narrow(filter);
    auto page = store_->ListRequests(filter);
    EXPECT_TRUE(page.ok());
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& r : page->requests) out.push_back(r.id);
      EXPECT_EQ(page->next_cursor, "");
    }
    return out;
  };
  auto expected = [&](auto pred) {
    std::vector<std::string> out;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (it->tenant == "default" && pred(*it)) out.push_back(it->id);
    }
    return out;
  };
  EXPECT_EQ(ids([](RequestFilter&) {}), expected([](const Request&) { return true; }));
  EXPECT_EQ(ids([](RequestFilter& f) { f.status = RequestStatus::kApproved; }),
            expected([](const Request& r) { return r.status == RequestStatus::kApproved; }));
  EXPECT_EQ(ids([](RequestFilter& f) { f.action = "wipe"; }),
            expected([](const Request& r) { return r.action == "wipe"; }));
  EXPECT_EQ(ids([](RequestFilter& f) { f.requester = "agent-7"; }),
            expected([](const Request& r) { return r.requester == "agent-7"; }));
  EXPECT_EQ(ids([](RequestFilter& f) { f.session = "s1"; }),
            expected([](const Request& r) { return r.session == "s1"; }));
  EXPECT_EQ(ids([](RequestFilter& f) {
              f.status = RequestStatus::kPending;
              f.action = "deploy";
              f.requester = "ci-bot";
            }),
            expected([](const Request& r) {
              return r.pending() && r.action == "deploy" && r.requester == "ci-bot";
            }));
  EXPECT_EQ(ids([](RequestFilter& f) { f.tenant = "other"; }),
            (std::vector<std::string>{"req_111", "req_107", "req_103"}));
  EXPECT_TRUE(ids([](RequestFilter& f) { f.tenant = "nobody"; }).empty());
  EXPECT_FALSE(store_->ListRequests({}).ok());  // a tenant is required
}

// The inbox's date filter: created_at in [created_from, created_before).
TEST_P(StoreTest, ListRequestsFiltersByCreationTime) {
  ASSERT_TRUE(OpenStore());
  for (int i = 0; i < 5; ++i) {
    Request r = MakeRequest("req_" + std::to_string(100 + i));
    r.created_at = kT0 + std::chrono::hours(24 * i);
    Insert(r);
  }
  RequestFilter filter = Requests("default", 50);
  filter.created_from = kT0 + std::chrono::hours(24);
  filter.created_before = kT0 + std::chrono::hours(24 * 3);
  auto page = store_->ListRequests(filter);
  ASSERT_TRUE(page.ok());
  std::vector<std::string> ids;
  for (const auto& r : page->requests) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"req_102", "req_101"}));
}

// The inbox's audit page: newest first with a `before` cursor, a type prefix (not a LIKE
// pattern), an actor, and a time range, each within the tenant.
TEST_P(StoreTest, ListEventsFiltersAndReadsNewestFirst) {
  ASSERT_TRUE(OpenStore());
  struct Draft {
    const char* tenant;
    const char* type;
    const char* actor;
    int hour;
  };
  const Draft drafts[] = {
      {"default", "request.created", "ci-bot", 0}, {"default", "decision.recorded", "alice", 1},
      {"other", "decision.recorded", "alice", 2},  {"default", "decision_recorded", "alice", 3},
      {"default", "decision.rejected", "bob", 4},  {"default", "request.approved", "system", 5}};
  for (const Draft& d : drafts) {
    ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                  EventDraft draft = MakeDraft(d.tenant, "req_1", d.type, {});
                  draft.actor = d.actor;
                  draft.at = kT0 + std::chrono::hours(d.hour);
                  auto e = txn.AppendEvent(std::move(draft));
                  return e.ok() ? Ok() : Status(std::move(e).error());
                }).ok());
  }
  auto seqs = [&](const std::function<void(EventFilter&)>& narrow) {
    EventFilter filter = Events("default", "", 0, 100);
    narrow(filter);
    auto events = store_->ListEvents(filter);
    EXPECT_TRUE(events.ok());
    std::vector<int64_t> out;
    if (events.ok()) {
      for (const auto& e : events.value()) out.push_back(e.seq);
    }
    return out;
  };
  using Seqs = std::vector<int64_t>;
  EXPECT_EQ(seqs([](EventFilter&) {}), (Seqs{1, 2, 4, 5, 6}));
  EXPECT_EQ(seqs([](EventFilter& f) { f.newest_first = true; }), (Seqs{6, 5, 4, 2, 1}));
  EXPECT_EQ(seqs([](EventFilter& f) {
              f.newest_first = true;
              f.before = 5;
              f.limit = 2;
            }),
            (Seqs{4, 2}));
  // "decision." is a prefix: "decision_recorded" does not match, as LIKE 'decision_%' would.
  EXPECT_EQ(seqs([](EventFilter& f) { f.type_prefix = "decision."; }), (Seqs{2, 5}));
  EXPECT_EQ(seqs([](EventFilter& f) { f.type_prefix = "decision.recorded"; }), (Seqs{2}));
  EXPECT_EQ(seqs([](EventFilter& f) { f.actor = "alice"; }), (Seqs{2, 4}));
  EXPECT_EQ(seqs([](EventFilter& f) {
              f.from = kT0 + std::chrono::hours(1);
              f.until = kT0 + std::chrono::hours(4);
            }),
            (Seqs{2, 4}));
  EXPECT_EQ(seqs([](EventFilter& f) {
              f.tenant = "";
              f.actor = "alice";
            }),
            (Seqs{2, 3, 4}));
}

TEST_P(StoreTest, ListRequestsPagesNewestFirstWithoutGapsOrDuplicates) {
  ASSERT_TRUE(OpenStore());
  constexpr int kCount = 23;
  for (int i = 0; i < kCount; ++i) {
    Request r = MakeRequest("req_" + std::to_string(100 + i));
    Insert(r);
    if (i % 5 == 0) {
      ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                    if (auto s = txn.InsertDecision(
                            r, MakeDecision("dec_a" + r.id, r, "alice", kT0 + Millis(2)));
                        !s.ok()) {
                      return s;
                    }
                    return txn.InsertDecision(
                        r, MakeDecision("dec_b" + r.id, r, "bob", kT0 + Millis(1)));
                  }).ok());
    }
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    auto page = store_->ListRequests(Requests("default", 5, cursor));
    ASSERT_TRUE(page.ok()) << page.error().message;
    ++pages;
    ASSERT_LE(page->requests.size(), 5u);
    for (const auto& r : page->requests) {
      seen.push_back(r.id);
      const int i = std::stoi(r.id.substr(4)) - 100;
      if (i % 5 == 0) {
        ASSERT_EQ(r.decisions.size(), 2u) << r.id;
        EXPECT_EQ(r.decisions[0].principal, "bob");  // oldest first
        EXPECT_EQ(r.decisions[1].principal, "alice");
      } else {
        EXPECT_TRUE(r.decisions.empty()) << r.id;
      }
    }
    if (page->next_cursor.empty()) break;
    EXPECT_EQ(page->next_cursor, page->requests.back().id);
    cursor = page->next_cursor;
    ASSERT_LT(pages, 10) << "pagination does not end";
  }
  EXPECT_EQ(pages, 5);
  std::vector<std::string> expected;
  for (int i = kCount - 1; i >= 0; --i) expected.push_back("req_" + std::to_string(100 + i));
  EXPECT_EQ(seen, expected);
}

TEST_P(StoreTest, AnExactlyFullLastPageHasNoNextCursor) {
  ASSERT_TRUE(OpenStore());
  for (int i = 0; i < 4; ++i) Insert(MakeRequest("req_" + std::to_string(100 + i)));
  auto first = store_->ListRequests(Requests("default", 2));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_cursor, "req_102");
  auto second = store_->ListRequests(Requests("default", 2, "req_102"));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->requests.size(), 2u);
  EXPECT_EQ(second->requests[1].id, "req_100");
  EXPECT_EQ(second->next_cursor, "");
}

TEST_P(StoreTest, GrantsAreFoundByScopeAndTimeListedNewestFirstAndRevoked) {
  ASSERT_TRUE(OpenStore());
  const auto grant = [](std::string id, std::string scope, std::string session, int created_s,
                        int expires_s) {
    Grant g;
    g.id = std::move(id);
    g.tenant = "default";
    g.action = "deploy";
    g.scope = std::move(scope);
    g.session = std::move(session);
    g.created_by = "alice";
    g.created_at = kT0 + std::chrono::seconds(created_s);
    g.expires_at = kT0 + std::chrono::seconds(expires_s);
    g.request_id = "req_1";
    return g;
  };
  const Grant tenant_wide = grant("grt_1", "tenant", "", 0, 100);
  const Grant session_grant = grant("grt_2", "session", "s1", 10, 200);
  Grant elsewhere = grant("grt_3", "tenant", "", 20, 300);
  elsewhere.tenant = "acme";
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (const Grant& g : {tenant_wide, session_grant, elsewhere}) {
                  CS_RETURN_IF_ERROR(txn.InsertGrant(g));
                }
                return Ok();
              }).ok());
  const auto active = [&](std::string_view session, int at_s) -> std::string {
    auto found =
        store_->FindActiveGrant("default", "deploy", session, "", kT0 + std::chrono::seconds(at_s));
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value() ? (*found)->id : "";
  };
  EXPECT_EQ(active("s1", 50), "grt_2");   // the newest that covers the session
  EXPECT_EQ(active("s2", 50), "grt_1");   // another session: only the tenant-wide one
  EXPECT_EQ(active("", 50), "grt_1");     // no session never matches a session grant
  EXPECT_EQ(active("s1", 150), "grt_2");  // grt_1 has expired
  EXPECT_EQ(active("s2", 150), "");
  EXPECT_EQ(active("s1", 200), "");  // expires_at is not included
  auto missing = store_->FindActiveGrant("default", "wipe", "s1", "", kT0);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto listed = store_->ListGrants("default");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "grt_2");
  EXPECT_EQ((*listed)[0].scope, "session");
  EXPECT_EQ((*listed)[0].session, "s1");
  EXPECT_EQ((*listed)[0].created_by, "alice");
  EXPECT_EQ((*listed)[0].created_at, session_grant.created_at);
  EXPECT_EQ((*listed)[0].expires_at, session_grant.expires_at);
  EXPECT_EQ((*listed)[0].request_id, "req_1");
  EXPECT_FALSE((*listed)[0].revoked_at.has_value());
  EXPECT_EQ((*listed)[1].id, "grt_1");
  auto latest = store_->LatestGrantExpiry();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, std::optional<TimePoint>(elsewhere.expires_at));

  Result<bool> revoked = false, again = true, wrong_tenant = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                wrong_tenant = txn.RevokeGrant("default", "grt_3", kT0 + Millis(1));
                revoked = txn.RevokeGrant("default", "grt_2", kT0 + Millis(2));
                again = txn.RevokeGrant("default", "grt_2", kT0 + Millis(3));
                return Ok();
              }).ok());
  ASSERT_TRUE(revoked.ok() && again.ok() && wrong_tenant.ok());
  EXPECT_TRUE(*revoked);
  EXPECT_FALSE(*again);
  EXPECT_FALSE(*wrong_tenant);
  EXPECT_EQ(active("s1", 50), "grt_1");
  listed = store_->ListGrants("default");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].revoked_at, std::optional<TimePoint>(kT0 + Millis(2)));
  latest = store_->LatestGrantExpiry();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, std::optional<TimePoint>(elsewhere.expires_at));
}

TEST_P(StoreTest, TheAuditHeadNamesTheLastEventAndTheNewestSignedCheckpoint) {
  ASSERT_TRUE(OpenStore());
  auto empty = store_->GetAuditHead();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->seq, 0);
  EXPECT_EQ(empty->hash, "");
  EXPECT_EQ(empty->last_checkpoint_seq, 0);

  std::string last_hash;
  AuditHead in_txn;
  std::optional<TimePoint> approved_at, never;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (const char* type : {"request.created", kAuditCheckpointEvent,
                                         "request.approved", "request.approved"}) {
                  EventDraft draft = MakeDraft("default", "req_1", type, {});
                  draft.at = kT0 + Millis(txn.AppendedEvents().size() * 1000);
                  auto seq = txn.AppendEvent(std::move(draft));
                  if (!seq.ok()) return std::move(seq).error();
                }
                last_hash = txn.AppendedEvents().back().hash;
                auto head = txn.FindAuditHead();
                if (!head.ok()) return std::move(head).error();
                in_txn = *head;
                auto at = txn.LastEventAt("req_1", "request.approved");
                if (!at.ok()) return std::move(at).error();
                approved_at = *at;
                at = txn.LastEventAt("req_2", "request.approved");
                if (!at.ok()) return std::move(at).error();
                never = *at;
                return Ok();
              }).ok());
  EXPECT_EQ(in_txn.seq, 4);
  EXPECT_EQ(in_txn.hash, last_hash);
  EXPECT_EQ(in_txn.type, "request.approved");
  EXPECT_EQ(approved_at, std::optional<TimePoint>(kT0 + Millis(3000)));  // the newest of two
  EXPECT_FALSE(never.has_value());

  auto head = store_->GetAuditHead();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->seq, 4);
  EXPECT_EQ(head->hash, last_hash);
  EXPECT_EQ(head->type, "request.approved");
  EXPECT_EQ(head->last_checkpoint_seq, 2);
}

TEST_P(StoreTest, AReceiptIsStoredByTheApprovalThatResolvesItsRequest) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  Insert(request);
  EXPECT_EQ(Get(request).receipt, "");
  const std::string receipt = "eyJhbGciOiJFZERTQSJ9.eyJyZXEiOiJyZXFfMDAxIn0.c2ln";
  const auto resolve = [&](std::string_view with) {
    bool changed = false;
    EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                  auto resolved =
                      txn.ResolveIfPending("req_001", RequestStatus::kApproved, kT0 + Millis(10),
                                           {"alice"}, "", ReasonCode::kApproved, with);
                  if (!resolved.ok()) return std::move(resolved).error();
                  changed = *resolved;
                  return Ok();
                }).ok());
    return changed;
  };
  EXPECT_TRUE(resolve(receipt));
  EXPECT_EQ(Get(request).receipt, receipt);
  EXPECT_EQ(Get(request).status, RequestStatus::kApproved);
  // A second resolution loses its compare-and-set, and with it its receipt.
  EXPECT_FALSE(resolve("eyJhbGciOiJFZERTQSJ9.b3RoZXI.c2ln"));
  EXPECT_EQ(Get(request).receipt, receipt);
}

TEST_P(StoreTest, AResolutionWithoutAReceiptStoresNone) {
  ASSERT_TRUE(OpenStore());
  Request request = MakeRequest("req_001");
  Insert(request);
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                auto resolved =
                    txn.ResolveIfPending("req_001", RequestStatus::kDenied, kT0 + Millis(10),
                                         {"alice"}, "", ReasonCode::kDeniedByPerson, "");
                if (!resolved.ok()) return std::move(resolved).error();
                return *resolved ? Ok() : Error::Internal("not resolved");
              }).ok());
  EXPECT_EQ(Get(request).receipt, "");
  EXPECT_EQ(Get(request).status, RequestStatus::kDenied);
}

TEST(StoreStatsTest, EachCommitCountsInEveryBucketAtOrAboveItsTime) {
  StoreStats stats;
  stats.RecordCommit(3, 0.3);
  stats.RecordCommit(1, 3);
  stats.RecordCommit(7, 30);
  stats.RecordCommit(2, 2000);  // slower than the last bound: counted only in the total
  EXPECT_EQ(stats.batches, 4u);
  EXPECT_EQ(stats.operations, 13u);
  EXPECT_DOUBLE_EQ(stats.commit_ms_sum, 2033.3);
  // Bounds: 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000 ms.
  const std::vector<uint64_t> buckets(std::begin(stats.commit_buckets),
                                      std::end(stats.commit_buckets));
  EXPECT_EQ(buckets, (std::vector<uint64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 3}));
  // A commit exactly at a bound belongs to that bucket.
  StoreStats at_bound;
  at_bound.RecordCommit(1, 5);
  EXPECT_EQ(at_bound.commit_buckets[2], 0u);
  EXPECT_EQ(at_bound.commit_buckets[3], 1u);
}

TEST_P(StoreTest, CorruptStoredRowsReadAsInternalErrorsNamingTheRow) {
  ASSERT_TRUE(OpenStore());
  Insert(MakeRequest("req_001"));
  Insert(MakeRequest("req_002"));
  RawExec("UPDATE requests SET status = 'limbo' WHERE id = 'req_001'");
  RawExec("UPDATE requests SET details = '[1,2' WHERE id = 'req_002'");

  auto bad_status = store_->GetRequest("default", "req_001");
  ASSERT_FALSE(bad_status.ok());
  EXPECT_EQ(bad_status.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(bad_status.error().message, "req_001"));
  EXPECT_TRUE(HasText(bad_status.error().message, "limbo"));

  auto bad_json = store_->GetRequest("default", "req_002");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(bad_json.error().message, "requests.details of req_002"));

  auto page = store_->ListRequests(Requests("default"));
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, ErrorCode::kInternal);

  RawExec(
      "UPDATE requests SET details = '{}', choices = '[{\"id\":1}]' "
      "WHERE id = 'req_002'");
  auto bad_choices = store_->GetRequest("default", "req_002");
  ASSERT_FALSE(bad_choices.ok());
  EXPECT_TRUE(HasText(bad_choices.error().message, "requests.choices of req_002"));
}

TEST_P(StoreTest, ListPendingDeadlinesReturnsOnlyPendingRequestsSoonestFirst) {
  ASSERT_TRUE(OpenStore());
  Request late = MakeRequest("req_001", "acme");
  late.deadline_at = kT0 + Millis(9000);
  Request soon = MakeRequest("req_002");
  soon.deadline_at = kT0 + Millis(1000);
  soon.remind_every = std::chrono::seconds(60);
  Request resolved = MakeRequest("req_003");
  resolved.deadline_at = kT0 + Millis(500);
  Insert(late);
  Insert(soon);
  Insert(resolved);
  ASSERT_TRUE(WriteAndWait(*store_, [](Transaction& txn) -> Status {
                auto changed =
                    txn.ResolveIfPending("req_003", RequestStatus::kCancelled, kT0, {"ci-bot"}, "",
                                         ReasonCode::kCancelledByRequester, "");
                if (!changed.ok()) return std::move(changed).error();
                return Ok();
              }).ok());
  auto deadlines = store_->ListPendingDeadlines(DeadlineCursor{}, 10);
  ASSERT_TRUE(deadlines.ok()) << deadlines.error().message;
  ASSERT_EQ(deadlines->size(), 2u);
  EXPECT_EQ((*deadlines)[0].id, "req_002");
  EXPECT_EQ((*deadlines)[0].tenant, "default");
  EXPECT_EQ((*deadlines)[0].deadline, kT0 + Millis(1000));
  EXPECT_EQ((*deadlines)[0].remind_every, std::chrono::seconds(60));
  EXPECT_EQ((*deadlines)[1].id, "req_001");
  EXPECT_EQ((*deadlines)[1].tenant, "acme");
  EXPECT_EQ((*deadlines)[1].deadline, kT0 + Millis(9000));

  auto reminding = store_->ListPendingReminders();
  ASSERT_TRUE(reminding.ok()) << reminding.error().message;
  ASSERT_EQ(reminding->size(), 1u);
  EXPECT_EQ((*reminding)[0].id, "req_002");
  EXPECT_EQ((*reminding)[0].remind_every, std::chrono::seconds(60));

  auto acme = store_->CountPending("acme");
  ASSERT_TRUE(acme.ok()) << acme.error().message;
  EXPECT_EQ(*acme, 1);
  auto by_default = store_->CountPending("default");
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(*by_default, 1);  // req_003 was cancelled
  auto none = store_->CountPending("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

// The deadline scheduler reads pages after a (deadline, id) cursor: requests with equal
// deadlines across a page boundary are each read once, in id order.
TEST_P(StoreTest, ListPendingDeadlinesPagesAfterACursorAcrossEqualDeadlines) {
  ASSERT_TRUE(OpenStore());
  for (int i = 1; i <= 7; ++i) {
    Request r = MakeRequest("req_00" + std::to_string(i), i % 2 ? "default" : "acme");
    r.deadline_at = i <= 5 ? kT0 + Millis(5000) : kT0 + Millis(i * 1000);
    Insert(r);
  }
  std::vector<std::string> read;
  std::vector<size_t> pages;
  DeadlineCursor after;
  for (;;) {
    auto page = store_->ListPendingDeadlines(after, 2);
    ASSERT_TRUE(page.ok()) << page.error().message;
    pages.push_back(page->size());
    if (page->empty()) break;
    for (const auto& p : *page) read.push_back(p.id);
    after = {page->back().deadline, page->back().id};
  }
  EXPECT_EQ(read, (std::vector<std::string>{"req_001", "req_002", "req_003", "req_004", "req_005",
                                            "req_006", "req_007"}));
  EXPECT_EQ(pages, (std::vector<size_t>{2, 2, 2, 1, 0}));

  auto from_middle = store_->ListPendingDeadlines({kT0 + Millis(5000), "req_003"}, 10);
  ASSERT_TRUE(from_middle.ok());
  ASSERT_EQ(from_middle->size(), 4u);
  EXPECT_EQ((*from_middle)[0].id, "req_004");
  EXPECT_FALSE(store_->ListPendingDeadlines(DeadlineCursor{}, 0).ok());
}

TEST_P(StoreTest, IdempotencyRecordsAreFoundByTenantAndKeyAndNotDuplicated) {
  ASSERT_TRUE(OpenStore());
  const IdempotencyRecord record{"default", "key-1", "bodyhash", "req_001", kT0};
  std::optional<IdempotencyRecord> before = record;
  std::optional<IdempotencyRecord> after;
  std::optional<IdempotencyRecord> other_tenant = record;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                auto found = txn.FindIdempotency("default", "key-1");
                if (!found.ok()) return std::move(found).error();
                before = *found;
                if (auto s = txn.InsertIdempotency(record); !s.ok()) return s;
                found = txn.FindIdempotency("default", "key-1");
                if (!found.ok()) return std::move(found).error();
                after = *found;
                found = txn.FindIdempotency("acme", "key-1");
                if (!found.ok()) return std::move(found).error();
                other_tenant = *found;
                return Ok();
              }).ok());
  EXPECT_FALSE(before.has_value());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->tenant, "default");
  EXPECT_EQ(after->key, "key-1");
  EXPECT_EQ(after->body_sha256, "bodyhash");
  EXPECT_EQ(after->request_id, "req_001");
  EXPECT_EQ(after->created_at, kT0);
  EXPECT_FALSE(other_tenant.has_value());

  Status duplicate =
      WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertIdempotency(record); });
  ASSERT_FALSE(duplicate.ok());
  EXPECT_TRUE(HasTextIgnoringCase(duplicate.error().message, "UNIQUE"));
}

TEST_P(StoreTest, ExpiredIdempotencyRecordsArePurgedOldestFirstAndBounded) {
  ASSERT_TRUE(OpenStore());
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (int i = 0; i < 5; ++i) {
                  const std::string n = std::to_string(i);
                  CS_RETURN_IF_ERROR(txn.InsertIdempotency(
                      {"default", "key-" + n, "hash", "req_" + n, kT0 + Millis(i * 1000)}));
                }
                return Ok();
              }).ok());
  int64_t purged = -1;
  std::vector<bool> left;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                // Three are older than kT0 + 3 s; at most two go per call.
                auto first = txn.PurgeIdempotency(kT0 + Millis(3000), 2);
                if (!first.ok()) return std::move(first).error();
                purged = *first;
                for (int i = 0; i < 5; ++i) {
                  auto found = txn.FindIdempotency("default", "key-" + std::to_string(i));
                  if (!found.ok()) return std::move(found).error();
                  left.push_back(found->has_value());
                }
                CS_RETURN_IF_ERROR(txn.DeleteIdempotency("default", "key-4"));
                auto gone = txn.FindIdempotency("default", "key-4");
                if (!gone.ok()) return std::move(gone).error();
                left.push_back(gone->has_value());
                return Ok();
              }).ok());
  EXPECT_EQ(purged, 2);
  EXPECT_EQ(left, (std::vector<bool>{false, false, true, true, true, false}));
}

TEST_P(StoreTest, PendingRequestsAreCountedPerRequester) {
  ASSERT_TRUE(OpenStore());
  int64_t alice = -1, bob = -1, other_tenant = -1;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (int i = 0; i < 3; ++i) {
                  Request r = MakeRequest("req_00" + std::to_string(i));
                  r.requester = "alice";
                  CS_RETURN_IF_ERROR(txn.InsertRequest(r));
                }
                Request resolved = MakeRequest("req_009");
                resolved.requester = "alice";
                resolved.status = RequestStatus::kApproved;
                CS_RETURN_IF_ERROR(txn.InsertRequest(resolved));
                Request elsewhere = MakeRequest("req_010", "acme");
                elsewhere.requester = "alice";
                CS_RETURN_IF_ERROR(txn.InsertRequest(elsewhere));
                auto counted = txn.CountPendingFrom("default", "alice");
                if (!counted.ok()) return std::move(counted).error();
                alice = *counted;
                counted = txn.CountPendingFrom("default", "bob");
                if (!counted.ok()) return std::move(counted).error();
                bob = *counted;
                counted = txn.CountPendingFrom("acme", "alice");
                if (!counted.ok()) return std::move(counted).error();
                other_tenant = *counted;
                return Ok();
              }).ok());
  EXPECT_EQ(alice, 3);
  EXPECT_EQ(bob, 0);
  EXPECT_EQ(other_tenant, 1);
}

TEST_P(StoreTest, PrincipalsAreFoundByTokenHashRevokedAndListed) {
  ASSERT_TRUE(OpenStore());
  Principal alice{"tok_1",  "alice", Role::kApprover, "default", {"sre", "leads"},
                  "hash-a", kT0,     std::nullopt};
  Principal bot{"tok_2", "ci-bot", Role::kAgent,    "default",
                {},      "hash-b", kT0 + Millis(1), std::nullopt};
  Principal admin{"tok_3", "root", Role::kAdmin, "acme", {}, "hash-c", kT0, std::nullopt};
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (const auto* p : {&alice, &bot, &admin}) {
                  if (auto s = txn.InsertPrincipal(*p); !s.ok()) return s;
                }
                return Ok();
              }).ok());

  auto found = store_->FindPrincipalByTokenHash("hash-a");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, "tok_1");
  EXPECT_EQ((*found)->name, "alice");
  EXPECT_EQ((*found)->role, Role::kApprover);
  EXPECT_EQ((*found)->tenant, "default");
  EXPECT_EQ((*found)->groups, (std::vector<std::string>{"sre", "leads"}));
  EXPECT_EQ((*found)->created_at, kT0);
  EXPECT_FALSE((*found)->revoked_at.has_value());
  EXPECT_FALSE(store_->FindPrincipalByTokenHash("hash-z")->has_value());

  Result<bool> wrong_tenant = true;
  Result<bool> revoked = false;
  Result<bool> again = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                wrong_tenant = txn.RevokePrincipal("acme", "tok_1", kT0 + Millis(5));
                revoked = txn.RevokePrincipal("default", "tok_1", kT0 + Millis(6));
                again = txn.RevokePrincipal("", "tok_1", kT0 + Millis(7));
                return Ok();
              }).ok());
  ASSERT_TRUE(wrong_tenant.ok() && revoked.ok() && again.ok());
  EXPECT_FALSE(*wrong_tenant);
  EXPECT_TRUE(*revoked);
  EXPECT_FALSE(*again);

  // Revoked principals are still found: the caller decides what revoked_at means.
  found = store_->FindPrincipalByTokenHash("hash-a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->revoked_at, kT0 + Millis(6));

  Result<bool> any_tenant = false;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                any_tenant = txn.RevokePrincipal("", "tok_3", kT0);
                return Ok();
              }).ok());
  ASSERT_TRUE(any_tenant.ok());
  EXPECT_TRUE(*any_tenant);

  auto names = [&](std::string_view tenant) {
    std::vector<std::string> out;
    auto listed = store_->ListPrincipals(tenant);
    EXPECT_TRUE(listed.ok());
    if (listed.ok()) {
      for (const auto& p : *listed) out.push_back(p.name);
    }
    return out;
  };
  EXPECT_EQ(names("default"), (std::vector<std::string>{"alice", "ci-bot"}));
  EXPECT_EQ(names("acme"), (std::vector<std::string>{"root"}));
  EXPECT_EQ(names(""), (std::vector<std::string>{"root", "alice", "ci-bot"}));

  Principal clash = bot;
  clash.id = "tok_4";
  Status duplicate_hash =
      WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertPrincipal(clash); });
  EXPECT_FALSE(duplicate_hash.ok());
}

TEST_P(StoreTest, ARequesterGrantCoversOnlyItsRequesterInAnySession) {
  ASSERT_TRUE(OpenStore());
  Grant g;
  g.id = "grt_1";
  g.tenant = "default";
  g.action = "deploy";
  g.scope = "requester";
  g.requester = "ci-bot";
  g.created_by = "alice";
  g.created_at = kT0;
  g.expires_at = kT0 + std::chrono::seconds(100);
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertGrant(g); }).ok());
  const auto active = [&](std::string_view session, std::string_view requester) {
    auto found = store_->FindActiveGrant("default", "deploy", session, requester,
                                         kT0 + std::chrono::seconds(50));
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value() ? (*found)->id : "";
  };
  EXPECT_EQ(active("s1", "ci-bot"), "grt_1");
  EXPECT_EQ(active("", "ci-bot"), "grt_1");
  EXPECT_EQ(active("s1", "other-bot"), "");
  EXPECT_EQ(active("s1", ""), "");  // an empty requester never matches
  auto listed = store_->ListGrants("default");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].requester, "ci-bot");
}

TEST_P(StoreTest, AResolutionKeepsItsReasonCode) {
  ASSERT_TRUE(OpenStore());
  Insert(MakeRequest("req_001"));
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                auto changed =
                    txn.ResolveIfPending("req_001", RequestStatus::kCancelled, kT0, {"admin"}, "",
                                         ReasonCode::kCancelledByAdmin, "");
                if (!changed.ok()) return std::move(changed).error();
                return *changed ? Ok() : Error::Internal("not resolved");
              }).ok());
  Request stored = Get(MakeRequest("req_001"));
  EXPECT_EQ(stored.status, RequestStatus::kCancelled);
  EXPECT_EQ(stored.reason_code, ReasonCode::kCancelledByAdmin);
}

TEST_P(StoreTest, AnExecutionIsReportedOnceAndUnreportedApprovalsAreCountedWhenDue) {
  ASSERT_TRUE(OpenStore());
  const auto approved = [](std::string id, std::string tenant, int report_within_s) {
    Request r = MakeRequest(std::move(id), std::move(tenant));
    r.status = RequestStatus::kApproved;
    r.reason_code = ReasonCode::kApproved;
    r.resolved_at = kT0;
    r.report_within = std::chrono::seconds(report_within_s);
    return r;
  };
  Insert(approved("req_1", "default", 60));
  Insert(approved("req_2", "default", 60));
  Insert(approved("req_3", "acme", 60));
  Insert(approved("req_4", "default", 0));  // no report expected
  Request pending = MakeRequest("req_5");
  pending.report_within = std::chrono::seconds(60);
  Insert(pending);

  const auto unreported = [&](int at_s) {
    auto counts = store_->CountUnreported(kT0 + std::chrono::seconds(at_s));
    EXPECT_TRUE(counts.ok()) << counts.error().message;
    return counts.ok() ? *counts : std::map<std::string, int64_t>{};
  };
  EXPECT_TRUE(unreported(59).empty());  // not due yet
  EXPECT_EQ(unreported(61), (std::map<std::string, int64_t>{{"acme", 1}, {"default", 2}}));

  const ExecutionReport first{"succeeded", 0, "", "ci-bot", kT0 + std::chrono::seconds(70)};
  const ExecutionReport second{"failed", 1, "again", "ci-bot", kT0 + std::chrono::seconds(80)};
  Result<bool> set = false, set_again = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                set = txn.SetExecutionIfUnreported("req_1", first);
                set_again = txn.SetExecutionIfUnreported("req_1", second);
                return Ok();
              }).ok());
  ASSERT_TRUE(set.ok() && set_again.ok());
  EXPECT_TRUE(*set);
  EXPECT_FALSE(*set_again);  // the first report stands
  EXPECT_EQ(Get(MakeRequest("req_1")).execution, std::optional<ExecutionReport>(first));
  EXPECT_EQ(unreported(61), (std::map<std::string, int64_t>{{"acme", 1}, {"default", 1}}));
}

TEST_P(StoreTest, ConsumeReceiptCountsUsesUpToMaxUsesAndKeepsTheFirstConsumer) {
  ASSERT_TRUE(OpenStore());
  Insert(MakeRequest("req_1"));
  const auto consume = [&](const std::string& jti, int64_t max_uses, const std::string& by,
                           int at_s) {
    ReceiptUse use;
    use.jti = jti;
    use.tenant = "default";
    use.request_id = "req_1";
    use.max_uses = max_uses;
    use.last_at = kT0 + std::chrono::seconds(at_s);
    use.last_by = by;
    Result<bool> counted = false;
    EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                  counted = txn.ConsumeReceipt(use);
                  return Ok();
                }).ok());
    EXPECT_TRUE(counted.ok()) << counted.error().message;
    return std::make_pair(counted.ok() && *counted, use);
  };

  auto [once, first] = consume("rct_single", 1, "runner", 1);
  EXPECT_TRUE(once);
  EXPECT_EQ(first.uses, 1);
  EXPECT_EQ(first.first_by, "runner");
  auto [again, refused] = consume("rct_single", 1, "mallory", 2);
  EXPECT_FALSE(again);
  EXPECT_EQ(refused.uses, 1);
  EXPECT_EQ(refused.first_by, "runner");
  EXPECT_EQ(refused.first_at, kT0 + std::chrono::seconds(1));
  EXPECT_EQ(refused.last_by, "runner");  // a use that did not count changes nothing
  EXPECT_EQ(refused.request_id, "req_1");

  for (int i = 1; i <= 3; ++i) {
    auto [counted, use] = consume("rct_three", 3, "bot-" + std::to_string(i), 10 + i);
    EXPECT_TRUE(counted) << "use " << i;
    EXPECT_EQ(use.uses, i);
    EXPECT_EQ(use.max_uses, 3);
    EXPECT_EQ(use.first_by, "bot-1");
    EXPECT_EQ(use.last_by, "bot-" + std::to_string(i));
    EXPECT_EQ(use.last_at, kT0 + std::chrono::seconds(10 + i));
  }
  auto [fourth, spent] = consume("rct_three", 3, "bot-4", 20);
  EXPECT_FALSE(fourth);
  EXPECT_EQ(spent.uses, 3);
  EXPECT_EQ(spent.last_by, "bot-3");

  // Both uses in one transaction: the second sees the first.
  ReceiptUse a{"rct_same_txn", "default", "req_1", 0, 1, {}, "", kT0, "a"};
  ReceiptUse b = a;
  b.last_by = "b";
  Result<bool> counted_a = false, counted_b = true;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) {
                counted_a = txn.ConsumeReceipt(a);
                counted_b = txn.ConsumeReceipt(b);
                return Ok();
              }).ok());
  ASSERT_TRUE(counted_a.ok() && counted_b.ok());
  EXPECT_TRUE(*counted_a);
  EXPECT_FALSE(*counted_b);
  EXPECT_EQ(b.first_by, "a");
}

TEST_P(StoreTest, CountRequestsByStatusCountsEveryTenantAndPingAnswers) {
  ASSERT_TRUE(OpenStore());
  EXPECT_TRUE(store_->CountRequestsByStatus()->empty());
  Insert(MakeRequest("req_1"));
  Insert(MakeRequest("req_2", "acme"));
  Request denied = MakeRequest("req_3");
  denied.status = RequestStatus::kDenied;
  Insert(denied);
  auto counts = store_->CountRequestsByStatus();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"denied", 1}, {"pending", 2}}));
  EXPECT_TRUE(store_->Ping().ok());
}

TEST_P(StoreTest, ManyThreadsReadThroughASmallPoolWhileWritesCommit) {
  ASSERT_TRUE(OpenStore(/*read_connections=*/2));
  Insert(MakeRequest("req_000"));
  std::atomic<int> read_failures{0};
  std::latch writes_done(100);
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto got = store_->GetRequest("default", "req_000");
        if (!got.ok() || !got->has_value()) ++read_failures;
        auto page = store_->ListRequests(Requests("default", 10));
        if (!page.ok() || page->requests.empty()) ++read_failures;
      }
    });
  }
  for (int i = 1; i <= 100; ++i) {
    store_->Write(
        [i](Transaction& txn) {
          return txn.InsertRequest(MakeRequest("req_" + std::to_string(100 + i)));
        },
        [&](Status s) {
          EXPECT_TRUE(s.ok());
          writes_done.count_down();
        });
  }
  for (auto& thread : readers) thread.join();
  writes_done.wait();
  EXPECT_EQ(read_failures.load(), 0);
  auto counts = store_->CountRequestsByStatus();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["pending"], 101);
}

TEST_P(StoreTest, PruneResolvedRemovesOldResolvedRequestsAndTheirRowsButNoAuditEvent) {
  ASSERT_TRUE(OpenStore());
  // Resolved at kT0 + 1 s and + 2 s (old), + 10 s (recent), and one still pending.
  auto resolved = [](std::string id, RequestStatus status, Millis after) {
    Request r = MakeRequest(std::move(id));
    r.status = status;
    r.resolved_at = kT0 + after;
    r.idempotency_key = "";
    return r;
  };
  const Request old_approved = resolved("req_001", RequestStatus::kApproved, Millis(1000));
  const Request recent = resolved("req_002", RequestStatus::kApproved, Millis(10000));
  const Request pending = MakeRequest("req_003");
  const Request old_denied = resolved("req_004", RequestStatus::kDenied, Millis(2000));
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (const Request* r : {&old_approved, &recent, &pending, &old_denied}) {
                  CS_RETURN_IF_ERROR(txn.InsertRequest(*r));
                  CS_RETURN_IF_ERROR(
                      txn.InsertDecision(*r, MakeDecision("dec_" + r->id, *r, "alice", kT0)));
                  auto event = txn.AppendEvent(MakeDraft("default", r->id, "request.created", {}));
                  if (!event.ok()) return std::move(event).error();
                  OutboxRow row;
                  row.delivery_id = "dlv_" + r->id;
                  row.tenant = "default";
                  row.request_id = r->id;
                  row.destination = "slack-ops";
                  row.kind = "post";
                  row.event = "request.created";
                  row.payload = "{}";
                  row.next_attempt_at = kT0;
                  row.created_at = kT0;
                  CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
                  CS_RETURN_IF_ERROR(txn.PutChannelMessage(r->id, "slack-ops", "ts-" + r->id));
                  CS_RETURN_IF_ERROR(txn.InsertIdempotency(
                      {"default", "key-" + r->id, "hash", r->id, kT0 + Millis(60000)}));
                }
                return Ok();
              }).ok());

  // At most one per call, lowest id first; the third call finds nothing more before kT0 + 5 s.
  std::vector<PrunedRequests> calls;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (int i = 0; i < 3; ++i) {
                  auto pruned = txn.PruneResolved(kT0 + Millis(5000), 1);
                  if (!pruned.ok()) return std::move(pruned).error();
                  calls.push_back(std::move(pruned).value());
                }
                return Ok();
              }).ok());
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].count, 1);
  EXPECT_EQ(calls[0].first_id, "req_001");
  EXPECT_EQ(calls[0].last_id, "req_001");
  EXPECT_EQ(calls[0].by_status, (std::map<std::string, int64_t>{{"approved", 1}}));
  EXPECT_EQ(calls[1].count, 1);
  EXPECT_EQ(calls[1].first_id, "req_004");
  EXPECT_EQ(calls[1].by_status, (std::map<std::string, int64_t>{{"denied", 1}}));
  EXPECT_EQ(calls[2].count, 0);
  EXPECT_EQ(calls[2].first_id, "");

  for (const Request* r : {&old_approved, &old_denied}) {
    SCOPED_TRACE(r->id);
    auto got = store_->GetRequest("default", r->id);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->has_value());
    auto outbox = store_->ListOutbox("", "", r->id, 10);
    ASSERT_TRUE(outbox.ok());
    EXPECT_TRUE(outbox->empty());
    auto message = store_->FindChannelMessage(r->id, "slack-ops");
    ASSERT_TRUE(message.ok());
    EXPECT_EQ(*message, "");
    // Its audit events stay.
    auto events = store_->ListEvents(Events("default", r->id));
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 1u);
  }
  EXPECT_EQ(RawQuery("SELECT count(*) FROM decisions"), "2");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM idempotency"), "2");
  EXPECT_EQ(Get(recent).decisions.size(), 1u);
  EXPECT_EQ(Get(pending).status, RequestStatus::kPending);
  auto audit = store_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->reason;
  EXPECT_EQ(audit->events_checked, 4);

  // A limit below 1 is refused.
  Status refused = WriteAndWait(*store_, [](Transaction& txn) -> Status {
    auto pruned = txn.PruneResolved(kT0, 0);
    if (!pruned.ok()) return std::move(pruned).error();
    return Ok();
  });
  EXPECT_FALSE(refused.ok());
}

// Replicas sharing a PostgreSQL store each run retention passes: a batch chooses what to remove
// inside its write transaction, under the chain lock, so two racing stores never both remove
// (and both record) the same request.
TEST_P(StoreTest, TwoStoresPruningAtOnceRemoveEachRequestOnce) {
  if (!postgres()) GTEST_SKIP() << "one SQLite file has one store";
  ASSERT_TRUE(OpenStore());
  auto other = Open();
  ASSERT_TRUE(other.ok()) << other.error().message;
  constexpr int kRequests = 40;
  ASSERT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                for (int i = 0; i < kRequests; ++i) {
                  Request r = MakeRequest("req_0" + std::to_string(100 + i));
                  r.status = RequestStatus::kApproved;
                  r.resolved_at = kT0;
                  r.idempotency_key = "";
                  CS_RETURN_IF_ERROR(txn.InsertRequest(r));
                }
                return Ok();
              }).ok());
  // Each store prunes in batches of 3 until it finds nothing, both at once.
  // Each counts what its batches say they removed: a request removed twice would count twice.
  auto prune = [](Store& store, int64_t& removed) {
    for (;;) {
      PrunedRequests batch;
      Status s = WriteAndWait(store, [&](Transaction& txn) -> Status {
        auto pruned = txn.PruneResolved(kT0 + Millis(1), 3);
        if (!pruned.ok()) return std::move(pruned).error();
        batch = std::move(pruned).value();
        return Ok();
      });
      if (!s.ok() || batch.count == 0) return s;
      removed += batch.count;
    }
  };
  int64_t by_first = 0;
  int64_t by_second = 0;
  auto first = std::async(std::launch::async, [&] { return prune(*store_, by_first); });
  auto second = std::async(std::launch::async, [&] { return prune(**other, by_second); });
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(second.get().ok());
  (*other)->Stop();
  EXPECT_EQ(by_first + by_second, kRequests);
  EXPECT_EQ(RawQuery("SELECT count(*) FROM requests"), "0");
}

}  // namespace
}  // namespace countersign
