// StoreCopy from a filled SqliteStore into a fresh PostgreSQL database (the pg fixture's, so
// every test name contains "Postgres"): every table arrives whole and reads back the same
// through both Stores, the audit chain verifies and ends where the source's does, the same
// copy runs back into a new SQLite file, the copy's check finds a tampered event, and a copy
// into a database that is no longer empty is refused and changes nothing.
#include "store/store_copy.hpp"

#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_connection.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/pg_test_database.hpp"
#include "testing/raw_database.hpp"
#include "testing/store_test_values.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using testing::HasText;
using testing::kStoreT0;
using testing::MakeDecision;
using testing::MakeDraft;
using testing::MakeRequest;
using testing::WriteAndWait;

// More than two pages of requests and events, and more than one of decisions and idempotency
// records (a two-column key) (StoreCopy::kPageRows).
constexpr int kRequests = 2300;

std::string RequestId(int i) {
  std::string digits = std::to_string(i);
  return "req_" + std::string(6 - digits.size(), '0') + digits;
}

class StoreCopyPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.File("countersign.db");
    auto sqlite = SqliteStore::Open(options);
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
    sqlite_ = std::move(sqlite).value();
    auto database = testing::PgTestDatabase::Create();
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(database).value();
    auto migrated = PgStore::Migrate(database_->url());
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  }

  void TearDown() override {
    if (pg_) pg_->Stop();
    if (sqlite_) sqlite_->Stop();
  }

  // Writes something into every table of the SQLite store.
  void Fill() {
    ASSERT_TRUE(WriteAndWait(*sqlite_, [](Transaction& txn) -> Status {
                  for (int i = 0; i < kRequests; ++i) {
                    Request request = MakeRequest(RequestId(i), i % 7 == 0 ? "acme" : "default");
                    request.created_at = kStoreT0 + Millis(i);
                    request.idempotency_key = i % 2 == 0 ? "idem-" + std::to_string(i) : "";
                    if (i % 5 == 0)
                      request.response_schema = boost::json::object{{"type", "object"}};
                    if (i % 3 == 0) {
                      request.grant_options = {{"session", 3600s}};
                      request.receipt_use = "single_use";
                      request.report_within = 600s;
                    }
                    CS_RETURN_IF_ERROR(txn.InsertRequest(request));
                    auto created = txn.AppendEvent(MakeDraft(
                        request.tenant, request.id, "request.created", {{"title", "Deploy"}}));
                    if (!created.ok()) return std::move(created).error();
                    if (i % 2 == 0) {
                      Decision decision =
                          MakeDecision("dec_" + request.id, request, "alice", kStoreT0 + 1s);
                      if (i % 4 == 0) decision.arguments = boost::json::object{{"ref", "v2.1"}};
                      CS_RETURN_IF_ERROR(txn.InsertDecision(request, decision));
                      auto resolved =
                          txn.ResolveIfPending(request.id, RequestStatus::kApproved, kStoreT0 + 1s,
                                               {"alice"}, "", ReasonCode::kApproved, "");
                      if (!resolved.ok()) return std::move(resolved).error();
                      if (i % 6 == 0) {
                        auto reported = txn.SetExecutionIfUnreported(
                            request.id,
                            ExecutionReport{"failed", 2, "exit 2", "ci-bot", kStoreT0 + 2s});
                        if (!reported.ok()) return std::move(reported).error();
                      }
                      auto appended = txn.AppendEvent(
                          MakeDraft(request.tenant, request.id, "decision.recorded",
                                    {{"choice", "approve"}, {"comment", "ünïcode ✓ \"quoted\""}}));
                      if (!appended.ok()) return std::move(appended).error();
                    }
                    if (i == 0) {
                      ReceiptUse use;
                      use.jti = "rct_0";
                      use.tenant = request.tenant;
                      use.request_id = request.id;
                      use.max_uses = 3;
                      use.last_at = kStoreT0 + 3s;
                      use.last_by = "ci-bot";
                      auto consumed = txn.ConsumeReceipt(use);
                      if (!consumed.ok()) return std::move(consumed).error();
                    }
                    if (i % 2 == 0) {
                      CS_RETURN_IF_ERROR(txn.InsertIdempotency(
                          {request.tenant, request.idempotency_key, "sha-" + std::to_string(i),
                           request.id, kStoreT0 + Millis(i)}));
                    }
                  }
                  return Ok();
                }).ok());
    ASSERT_TRUE(WriteAndWait(*sqlite_, [](Transaction& txn) -> Status {
                  for (int i = 0; i < 3; ++i) {
                    Principal principal;
                    principal.id = "tok_" + std::to_string(i);
                    principal.name = "person-" + std::to_string(i);
                    principal.role = i == 0 ? Role::kAdmin : Role::kApprover;
                    principal.tenant = i == 2 ? "acme" : "default";
                    principal.groups = {"sre", "oncall"};
                    principal.token_sha256 = "hash-" + std::to_string(i);
                    principal.created_at = kStoreT0 + Millis(i);
                    CS_RETURN_IF_ERROR(txn.InsertPrincipal(principal));
                  }
                  auto revoked = txn.RevokePrincipal("", "tok_1", kStoreT0 + 2s);
                  if (!revoked.ok()) return std::move(revoked).error();
                  for (int i = 0; i < 2; ++i) {
                    Grant grant{"grt_" + std::to_string(i),
                                "default",
                                "deploy_production",
                                i == 0 ? "session" : "tenant",
                                i == 0 ? "sess-1" : "",
                                "",
                                "alice",
                                kStoreT0,
                                kStoreT0 + 1h,
                                std::nullopt,
                                RequestId(0)};
                    CS_RETURN_IF_ERROR(txn.InsertGrant(grant));
                  }
                  auto grant_revoked = txn.RevokeGrant("default", "grt_1", kStoreT0 + 1min);
                  if (!grant_revoked.ok()) return std::move(grant_revoked).error();
                  for (int i = 0; i < 5; ++i) {
                    OutboxRow row;
                    row.delivery_id = "dlv_" + std::to_string(i);
                    row.tenant = "default";
                    row.request_id = RequestId(i);
                    row.destination = i % 2 == 0 ? "slack-ops" : "webhook:audit";
                    row.kind = "post";
                    row.event = "request.created";
                    row.event_seq = i + 1;
                    row.payload = R"({"text":"Deploy ✓"})";
                    row.next_attempt_at = kStoreT0 + Millis(i);
                    row.created_at = kStoreT0;
                    CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
                    if (i == 1) {
                      row.state = "delivered";
                      row.attempts = 2;
                      row.last_error = "timeout once";
                      CS_RETURN_IF_ERROR(txn.UpdateOutbox(row));
                    }
                  }
                  CS_RETURN_IF_ERROR(
                      txn.PutChannelMessage(RequestId(0), "slack-ops", R"({"ts":"1.2"})"));
                  Conversation conversation;
                  conversation.request_id = RequestId(1);
                  conversation.subject = "slack:U123";
                  conversation.channel = "slack-ops";
                  conversation.alert.name = "Impossible travel";
                  conversation.feed_ts = "1795255200.000100";
                  conversation.step_due = kStoreT0 + 30s;
                  conversation.updated_at = kStoreT0;
                  CS_RETURN_IF_ERROR(txn.InsertConversation(conversation));
                  for (int i = 0; i < 2; ++i) {
                    ConversationMessage message;
                    message.request_id = RequestId(1);
                    message.author = "slack:U123";
                    message.text = "message " + std::to_string(i);
                    message.at = kStoreT0 + Millis(i);
                    message.external_id = i == 0 ? "ext-1" : "";
                    auto appended = txn.AppendMessage(message);
                    if (!appended.ok()) return std::move(appended).error();
                  }
                  return Ok();
                }).ok());
    auto audit = sqlite_->VerifyAudit();
    ASSERT_TRUE(audit.ok() && audit->ok);
    ASSERT_TRUE(WriteAndWait(*sqlite_, [&](Transaction& txn) {
                  AuditCheckpoint checkpoint = audit->checkpoint;
                  checkpoint.verified_at = kStoreT0 + 5min;
                  return txn.PutAuditCheckpoint(checkpoint);
                }).ok());
  }

  // Copies the SQLite file (opened read-only) into the test's PostgreSQL database.
  Result<StoreCopyReport> CopyIntoPostgres() {
    auto source = SqliteConnection::Open(dir_.File("countersign.db"), SQLITE_OPEN_READONLY);
    if (!source.ok()) return std::move(source).error();
    auto destination = PgConnection::Open(database_->url(), "store-copy-test");
    if (!destination.ok()) return std::move(destination).error();
    return StoreCopy::Copy(**source, **destination);
  }

  void OpenPostgres() {
    PgStoreOptions options;
    options.url = database_->url();
    auto pg = PgStore::Open(options);
    ASSERT_TRUE(pg.ok()) << pg.error().message;
    pg_ = std::move(pg).value();
  }

  std::string Count(const std::string& table) const {
    auto count =
        testing::RawDatabase::Postgres(database_->url()).Query("SELECT count(*) FROM " + table);
    return count.ok() ? *count : count.error().message;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> sqlite_;
  std::unique_ptr<testing::PgTestDatabase> database_;
  std::unique_ptr<PgStore> pg_;
};

std::vector<Event> AllEvents(Store& store) {
  std::vector<Event> all;
  EventFilter filter;
  filter.limit = 1000;
  for (;;) {
    auto page = store.ListEvents(filter);
    EXPECT_TRUE(page.ok()) << page.error().message;
    if (!page.ok() || page->empty()) return all;
    filter.since = page->back().seq;
    all.insert(all.end(), page->begin(), page->end());
  }
}

TEST_F(StoreCopyPostgresTest, EveryTableReadsBackTheSameThroughBothStoresAndTheChainVerifies) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  auto report = CopyIntoPostgres();
  ASSERT_TRUE(report.ok()) << report.error().message;

  const int decided = (kRequests + 1) / 2;
  const std::map<std::string, int64_t> expected = {{"principals", 3},
                                                   {"requests", kRequests},
                                                   {"decisions", decided},
                                                   {"events", kRequests + decided},
                                                   {"idempotency", decided},
                                                   {"grants", 2},
                                                   {"outbox", 5},
                                                   {"channel_messages", 1},
                                                   {"audit_checkpoint", 1},
                                                   {"receipt_uses", 1},
                                                   {"conversations", 1},
                                                   {"conversation_messages", 2}};
  ASSERT_EQ(report->tables.size(), expected.size());
  for (const auto& table : report->tables) {
    EXPECT_EQ(table.source_rows, expected.at(table.table)) << table.table;
    EXPECT_EQ(table.destination_rows, table.source_rows) << table.table;
    EXPECT_EQ(Count(table.table), std::to_string(table.source_rows)) << table.table;
  }
  auto source_head = sqlite_->GetAuditHead();
  ASSERT_TRUE(source_head.ok());
  EXPECT_EQ(report->source_head.seq, kRequests + decided);
  EXPECT_EQ(report->source_head.hash, source_head->hash);

  ASSERT_NO_FATAL_FAILURE(OpenPostgres());
  for (int i = 0; i < kRequests; ++i) {
    const std::string tenant = i % 7 == 0 ? "acme" : "default";
    auto from = sqlite_->GetRequest(tenant, RequestId(i));
    auto to = pg_->GetRequest(tenant, RequestId(i));
    ASSERT_TRUE(from.ok() && from->has_value() && to.ok() && to->has_value()) << RequestId(i);
    if (!(**from == **to)) {
      testing::ExpectSameRequest(**from, **to);
      FAIL() << RequestId(i) << " differs";
    }
  }
  EXPECT_EQ(sqlite_->CountRequestsByStatus().value(), pg_->CountRequestsByStatus().value());

  const std::vector<Event> from_events = AllEvents(*sqlite_);
  const std::vector<Event> to_events = AllEvents(*pg_);
  ASSERT_EQ(from_events.size(), static_cast<size_t>(kRequests + decided));
  ASSERT_EQ(to_events.size(), from_events.size());
  for (size_t i = 0; i < from_events.size(); ++i) {
    EXPECT_EQ(to_events[i].seq, from_events[i].seq);
    EXPECT_EQ(to_events[i].data, from_events[i].data) << "seq " << from_events[i].seq;
    EXPECT_EQ(to_events[i].hash, from_events[i].hash) << "seq " << from_events[i].seq;
  }

  auto principals_from = sqlite_->ListPrincipals("");
  auto principals_to = pg_->ListPrincipals("");
  ASSERT_TRUE(principals_from.ok() && principals_to.ok());
  ASSERT_EQ(principals_to->size(), 3u);
  for (size_t i = 0; i < principals_from->size(); ++i) {
    const Principal& a = (*principals_from)[i];
    const Principal& b = (*principals_to)[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.role, b.role);
    EXPECT_EQ(a.tenant, b.tenant);
    EXPECT_EQ(a.groups, b.groups);
    EXPECT_EQ(a.token_sha256, b.token_sha256);
    EXPECT_EQ(a.revoked_at, b.revoked_at);
  }
  auto by_token = pg_->FindPrincipalByTokenHash("hash-0");
  ASSERT_TRUE(by_token.ok() && by_token->has_value());
  EXPECT_EQ((*by_token)->name, "person-0");

  auto grants_from = sqlite_->ListGrants("default");
  auto grants_to = pg_->ListGrants("default");
  ASSERT_TRUE(grants_from.ok() && grants_to.ok());
  ASSERT_EQ(grants_to->size(), 2u);
  for (size_t i = 0; i < grants_from->size(); ++i) {
    EXPECT_EQ((*grants_from)[i].id, (*grants_to)[i].id);
    EXPECT_EQ((*grants_from)[i].scope, (*grants_to)[i].scope);
    EXPECT_EQ((*grants_from)[i].expires_at, (*grants_to)[i].expires_at);
    EXPECT_EQ((*grants_from)[i].revoked_at, (*grants_to)[i].revoked_at);
  }
  auto active = pg_->FindActiveGrant("default", "deploy_production", "sess-1", "", kStoreT0 + 1s);
  ASSERT_TRUE(active.ok() && active->has_value());
  EXPECT_EQ((*active)->id, "grt_0");

  auto outbox_from = sqlite_->ListOutbox("", "", "", 100);
  auto outbox_to = pg_->ListOutbox("", "", "", 100);
  ASSERT_TRUE(outbox_from.ok() && outbox_to.ok());
  ASSERT_EQ(outbox_to->size(), 5u);
  for (size_t i = 0; i < outbox_from->size(); ++i) {
    const OutboxRow& a = (*outbox_from)[i];
    const OutboxRow& b = (*outbox_to)[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.delivery_id, b.delivery_id);
    EXPECT_EQ(a.payload, b.payload);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.last_error, b.last_error);
    EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  }
  EXPECT_EQ(pg_->FindChannelMessage(RequestId(0), "slack-ops").value(), R"({"ts":"1.2"})");

  auto conversation_from = sqlite_->GetConversation("default", RequestId(1));
  auto conversation_to = pg_->GetConversation("default", RequestId(1));
  ASSERT_TRUE(conversation_to.ok() && conversation_to->has_value());
  EXPECT_TRUE(**conversation_from == **conversation_to);
  EXPECT_EQ(sqlite_->ListMessages(RequestId(1), 0, 10).value(),
            pg_->ListMessages(RequestId(1), 0, 10).value());

  std::optional<IdempotencyRecord> idempotency;
  ASSERT_TRUE(WriteAndWait(*pg_, [&](Transaction& txn) -> Status {
                auto found = txn.FindIdempotency("acme", "idem-28");
                if (!found.ok()) return std::move(found).error();
                idempotency = *found;
                return Ok();
              }).ok());
  ASSERT_TRUE(idempotency.has_value());
  EXPECT_EQ(idempotency->request_id, RequestId(28));
  EXPECT_EQ(idempotency->body_sha256, "sha-28");

  auto checkpoint_from = sqlite_->GetAuditCheckpoint();
  auto checkpoint_to = pg_->GetAuditCheckpoint();
  ASSERT_TRUE(checkpoint_from.ok() && checkpoint_to.ok());
  EXPECT_EQ(checkpoint_to->seq, checkpoint_from->seq);
  EXPECT_EQ(checkpoint_to->hash, checkpoint_from->hash);
  EXPECT_EQ(checkpoint_to->verified_at, checkpoint_from->verified_at);

  auto check = StoreCopy::Check(*report, *pg_);
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->ok()) << (check->differences.empty() ? "" : check->differences[0]);
  EXPECT_EQ(check->events_verified, kRequests + decided);
  EXPECT_EQ(check->destination_head.seq, source_head->seq);
  EXPECT_EQ(check->destination_head.hash, source_head->hash);

  // The copy goes on where the source stopped: the next outbox id follows the copied ones,
  // and the next event extends the copied chain.
  OutboxRow row;
  row.delivery_id = "dlv_new";
  row.tenant = "default";
  row.destination = "slack-ops";
  row.kind = "post";
  row.event = "request.created";
  row.payload = "{}";
  row.next_attempt_at = kStoreT0;
  row.created_at = kStoreT0;
  ASSERT_TRUE(WriteAndWait(*pg_, [&](Transaction& txn) { return txn.InsertOutbox(row); }).ok());
  EXPECT_EQ(row.id, outbox_from->front().id + 1);
  auto next = testing::AppendOne(*pg_, MakeDraft("default", "", "audit.test", {}));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(*next, source_head->seq + 1);
  auto audit = pg_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->reason;
}

TEST_F(StoreCopyPostgresTest, ACopyBackFromPostgresIntoANewSqliteFileMatchesTheSource) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  auto there = CopyIntoPostgres();
  ASSERT_TRUE(there.ok()) << there.error().message;

  // A new SQLite file with the schema (opening a store migrates it), then the way back.
  SqliteStoreOptions options;
  options.path = dir_.File("back.db");
  {
    auto created = SqliteStore::Open(options);
    ASSERT_TRUE(created.ok()) << created.error().message;
    (*created)->Stop();
  }
  auto source = PgConnection::Open(database_->url(), "store-copy-test");
  ASSERT_TRUE(source.ok()) << source.error().message;
  auto destination = SqliteConnection::Open(options.path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(destination.ok()) << destination.error().message;
  auto back = StoreCopy::Copy(**source, **destination);
  ASSERT_TRUE(back.ok()) << back.error().message;
  destination->reset();
  for (size_t i = 0; i < back->tables.size(); ++i) {
    EXPECT_EQ(back->tables[i].destination_rows, there->tables[i].source_rows)
        << back->tables[i].table;
  }

  auto reopened = SqliteStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto check = StoreCopy::Check(*back, **reopened);
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_TRUE(check->ok()) << (check->differences.empty() ? "" : check->differences[0]);
  EXPECT_EQ(check->destination_head.hash, there->source_head.hash);
  for (int i = 0; i < kRequests; i += 97) {
    const std::string tenant = i % 7 == 0 ? "acme" : "default";
    auto from = sqlite_->GetRequest(tenant, RequestId(i));
    auto to = (*reopened)->GetRequest(tenant, RequestId(i));
    ASSERT_TRUE(from.ok() && from->has_value() && to.ok() && to->has_value()) << RequestId(i);
    EXPECT_TRUE(**from == **to) << RequestId(i);
  }
  (*reopened)->Stop();
}

TEST_F(StoreCopyPostgresTest, TheCheckOfACopyWhoseEventWasEditedNamesThatEvent) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  auto report = CopyIntoPostgres();
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(testing::RawDatabase::Postgres(database_->url())
                  .Exec("UPDATE events SET data = '{\"title\":\"Deploy v9\"}' WHERE seq = 7")
                  .ok());
  ASSERT_NO_FATAL_FAILURE(OpenPostgres());
  auto check = StoreCopy::Check(*report, *pg_);
  ASSERT_TRUE(check.ok()) << check.error().message;
  ASSERT_FALSE(check->ok());
  ASSERT_EQ(check->differences.size(), 1u);
  EXPECT_TRUE(HasText(check->differences[0], "event 7"));
}

TEST_F(StoreCopyPostgresTest, ASecondCopyIntoTheNowNonEmptyPostgresDatabaseIsRefusedUnchanged) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  auto first = CopyIntoPostgres();
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string requests = Count("requests");
  const std::string events = Count("events");
  const std::string outbox = Count("outbox");

  auto second = CopyIntoPostgres();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(HasText(second.error().message, "not empty"));
  EXPECT_TRUE(HasText(second.error().message, std::to_string(kRequests) + " requests"));
  EXPECT_EQ(Count("requests"), requests);
  EXPECT_EQ(Count("events"), events);
  EXPECT_EQ(Count("outbox"), outbox);
}

TEST_F(StoreCopyPostgresTest, ADestinationHoldingOnlyAPrincipalIsRefusedToo) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  ASSERT_TRUE(testing::RawDatabase::Postgres(database_->url())
                  .Exec("INSERT INTO principals (id, name, role, tenant, token_sha256, "
                        "created_at) VALUES ('tok_x', 'x', 'admin', 'default', 'h', 0)")
                  .ok());
  auto copied = CopyIntoPostgres();
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(HasText(copied.error().message, "1 principals"));
  EXPECT_EQ(Count("requests"), "0");
}

}  // namespace
}  // namespace countersign
