// Every statement the SQLite store runs for the API is planned with an index, so a 10 M-request
// store answers each call in the rows it returns, not in the size of a table.
//
// The test records the statement texts the store itself prepares and runs (a trace that
// sqlite3_auto_extension puts on every connection the store opens), while it calls every Store
// and Transaction method; then it asks SQLite for each statement's EXPLAIN QUERY PLAN on the
// same file and fails on a full pass over a table that grows with use: "SCAN t", with or without
// a covering index (a partial index only holds the rows asked for, so scanning one is fine), or
// a bare "SEARCH t" (how SQLite words a MIN()/MAX() read the whole table for), unless
// kAcceptedScans names the statement with its reason. No statement text is copied here, so the
// check cannot drift from the code: a new query, or a new filter of a list, is checked as soon
// as a call reaches it.
//
// Plans come from the schema alone: the store never runs ANALYZE, so SQLite plans with its
// built-in size estimates whatever the row count, and so does this test (no ANALYZE). The
// 2,000 requests it writes (with decisions and events) only make the calls return rows.
#include <sqlite3.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "testing/store_test_values.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using testing::kStoreT0;
using testing::MakeDecision;
using testing::MakeDraft;
using testing::MakeRequest;
using testing::WriteAndWait;

// The statement texts run on any connection opened while a StatementRecorder exists.
class StatementRecorder {
 public:
  StatementRecorder() {
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(&StatementRecorder::OnOpen));
  }
  ~StatementRecorder() {
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(&StatementRecorder::OnOpen));
    Set(false);
  }
  StatementRecorder(const StatementRecorder&) = delete;
  StatementRecorder& operator=(const StatementRecorder&) = delete;

  // Recording starts after the store's Open, so its migrations and checks are left out.
  void Start() { Set(true); }
  void Stop() { Set(false); }

  std::set<std::string> Statements() const {
    std::lock_guard lock(mu());
    return statements();
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& statements() {
    static std::set<std::string> s;
    return s;
  }
  static bool& recording() {
    static bool on = false;
    return on;
  }
  static void Set(bool on) {
    std::lock_guard lock(mu());
    recording() = on;
  }

  static int OnOpen(sqlite3* db, char** /*error*/, const void* /*api*/) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, &StatementRecorder::OnStatement, nullptr);
    return SQLITE_OK;
  }
  static int OnStatement(unsigned type, void* /*context*/, void* statement, void* /*text*/) {
    if (type != SQLITE_TRACE_STMT) return 0;
    const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(statement));
    std::lock_guard lock(mu());
    if (recording() && sql != nullptr) statements().insert(sql);
    return 0;
  }
};

// Tables that grow with every request, decision, event or delivery: a full scan of one of them
// costs in proportion to the store's age.
const std::set<std::string, std::less<>> kGrowingTables = {
    "requests",  "decisions",    "events",        "idempotency",           "outbox",
    "grants",    "receipt_uses", "conversations", "conversation_messages", "channel_messages",
    "principals"};

// Scans that are the query's purpose, each with why it is acceptable; matched by a part of
// the statement's text. Anything else that scans a growing table fails the test.
const std::map<std::string, std::string> kAcceptedScans = {
    {"SELECT status, count(*) FROM requests GROUP BY status",
     "start-up only (Gateway::Start seeds the per-status counters): one pass over the covering "
     "index requests_tenant_status_id, never on a request path"},
    {"SELECT state, COUNT(*) FROM outbox GROUP BY state",
     "counts every row by state: unused by the API today (no caller outside the store)"},
    {" FROM principals ORDER BY tenant, created_at, id",
     "GET /v1/tokens for the whole installation lists every token: the answer is the table"},
    {" FROM events ORDER BY seq DESC LIMIT 1",
     "the chain's head: the last row of the table in rowid order, one row read"},
    {" FROM outbox WHERE 1 = 1 ORDER BY id DESC LIMIT ?4",
     "GET /v1/outbox unfiltered: the newest rows in rowid order, stopping at the limit"},
    {" FROM outbox WHERE 1 = 1 AND state = 'delivered' ORDER BY id DESC LIMIT ?4",
     "delivered is most of the outbox: the newest rows match, the walk stops at the limit"},
    {" FROM outbox WHERE 1 = 1 AND tenant = ?1 ORDER BY id DESC LIMIT ?4",
     "a tenant admin's GET /v1/outbox: the newest rows, filtered by tenant; stops at the limit "
     "in a one-tenant installation, walks further for a small tenant among large ones"},
    {" FROM outbox WHERE 1 = 1 AND tenant = ?1 AND state = 'delivered' ORDER BY id DESC",
     "as the two above"},
};

// The EXPLAIN QUERY PLAN details of `sql` on `db`, or an error text.
std::vector<std::string> ExplainQueryPlan(sqlite3* db, const std::string& sql, std::string* error) {
  std::vector<std::string> details;
  sqlite3_stmt* statement = nullptr;
  const std::string explain = "EXPLAIN QUERY PLAN " + sql;
  if (sqlite3_prepare_v2(db, explain.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    sqlite3_finalize(statement);
    return details;
  }
  while (sqlite3_step(statement) == SQLITE_ROW) {
    details.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 3)));
  }
  sqlite3_finalize(statement);
  return details;
}

// The partial indexes of the schema (CREATE INDEX ... WHERE): scanning one reads only the
// rows its WHERE selects, which is what the query asked for.
std::set<std::string, std::less<>> PartialIndexes(sqlite3* db) {
  std::set<std::string, std::less<>> names;
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'",
                     -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    names.emplace(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  }
  sqlite3_finalize(statement);
  return names;
}

// The growing table (or its alias's table) a plan line reads in full, or "": "SCAN t" or "SCAN
// t USING [COVERING] INDEX i" unless i is partial, or a bare "SEARCH t".
std::string ScannedTable(const std::string& detail, const std::string& sql,
                         const std::set<std::string, std::less<>>& partial) {
  // "SEARCH t" with no index named is a full pass too (SQLite words a MIN()/MAX() over a
  // table that way).
  const bool bare_search =
      detail.rfind("SEARCH ", 0) == 0 && detail.find(" USING ") == std::string::npos;
  if (detail.rfind("SCAN ", 0) != 0 && !bare_search) return "";
  if (const auto at = detail.find("INDEX "); at != std::string::npos) {
    const std::string index = detail.substr(at + 6, detail.find(' ', at + 6) - (at + 6));
    if (partial.contains(index)) return "";
  }
  const size_t from = bare_search ? 7 : 5;
  std::string name = detail.substr(from, detail.find(' ', from) - from);
  if (kGrowingTables.contains(name)) return name;
  // An alias ("FROM outbox o"): the table named before it in the statement.
  for (const auto& table : kGrowingTables) {
    if (sql.find(" " + table + " " + name + " ") != std::string::npos) return table;
  }
  return "";
}

bool IsTransactionControl(std::string_view sql) {
  for (std::string_view word : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"}) {
    if (sql.substr(0, word.size()) == word) return true;
  }
  return false;
}

// Runs `fn` as one write; the outcome of each call in it does not matter here (a call on a
// row that is not there still runs its statements), only that the write is committed.
void Exercise(Store& store, const std::function<void(Transaction&)>& fn) {
  Status written = WriteAndWait(store, [&](Transaction& txn) -> Status {
    fn(txn);
    return Ok();
  });
  ASSERT_TRUE(written.ok()) << written.error().message;
}

std::string RequestId(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "req_%06d", i);
  return id;
}

TEST(SqliteQueryPlanTest, EveryStatementTheApiRunsUsesAnIndex) {
  testing::TempDir dir;
  const std::string path = dir.File("countersign.db");
  StatementRecorder recorder;
  SqliteStoreOptions options;
  options.path = path;
  auto opened = SqliteStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto store = std::move(opened).value();
  recorder.Start();

  // -- writes: 2,000 requests over two tenants, a third resolved with a decision ------------
  constexpr int kRequests = 2000;
  Exercise(*store, [&](Transaction& txn) {
    for (int i = 0; i < kRequests; ++i) {
      Request r = MakeRequest(RequestId(i), i % 2 == 0 ? "default" : "acme");
      r.action = "action_" + std::to_string(i % 7);
      r.requester = "agent_" + std::to_string(i % 11);
      r.session = "session_" + std::to_string(i % 13);
      r.created_at = kStoreT0 + Millis(i);
      r.deadline_at = kStoreT0 + Millis(900000 + i);
      (void)txn.InsertRequest(r);
      (void)txn.AppendEvent(MakeDraft(r.tenant, r.id, "request.created", {{"i", i}}));
      if (i % 3 == 0) {
        (void)txn.InsertDecision(r, MakeDecision("dec_" + r.id, r, "alice", kStoreT0 + Millis(i)));
        (void)txn.ResolveIfPending(r.id, RequestStatus::kApproved, kStoreT0 + Millis(i), {"alice"},
                                   "", DefaultReasonFor(RequestStatus::kApproved), "receipt");
        (void)txn.AppendEvent(MakeDraft(r.tenant, r.id, "decision.recorded", {{"i", i}}));
      }
    }
  });
  const std::string pending_id = RequestId(1);
  const std::string resolved_id = RequestId(3);

  Exercise(*store, [&](Transaction& txn) {
    (void)txn.FindRequest("acme", pending_id);
    ExecutionReport report;
    report.reported_by = "ci-bot";
    report.at = kStoreT0;
    (void)txn.SetExecutionIfUnreported(resolved_id, report);
    ReceiptUse use{.jti = "jti-1",
                   .tenant = "acme",
                   .request_id = resolved_id,
                   .uses = 0,
                   .max_uses = 2,
                   .first_at = kStoreT0,
                   .first_by = "ci-bot",
                   .last_at = kStoreT0,
                   .last_by = "ci-bot"};
    (void)txn.ConsumeReceipt(use);
    (void)txn.ConsumeReceipt(use);
    (void)txn.EscalateIfPending(pending_id, 1, kStoreT0 + Millis(1), {"bob"});
    Grant grant{.id = "grt_1",
                .tenant = "acme",
                .action = "action_1",
                .scope = "session",
                .session = "session_1",
                .requester = "",
                .created_by = "alice",
                .created_at = kStoreT0,
                .expires_at = kStoreT0 + Millis(3600000),
                .revoked_at = std::nullopt,
                .request_id = resolved_id};
    (void)txn.InsertGrant(grant);
    grant.id = "grt_2";
    (void)txn.InsertGrant(grant);
    (void)txn.RevokeGrant("acme", "grt_2", kStoreT0);
    (void)txn.FindIdempotency("acme", "key-1");
    (void)txn.InsertIdempotency({"acme", "key-1", "sha", pending_id, kStoreT0});
    (void)txn.InsertIdempotency({"acme", "key-2", "sha", resolved_id, kStoreT0});
    (void)txn.DeleteIdempotency("acme", "key-1");
    (void)txn.PurgeIdempotency(kStoreT0 - Millis(1), 100);
    (void)txn.CountPendingFrom("acme", "agent_1");
    Principal principal;
    principal.id = "tok_1";
    principal.name = "bot";
    principal.tenant = "acme";
    principal.token_sha256 = "hash-1";
    principal.created_at = kStoreT0;
    (void)txn.InsertPrincipal(principal);
    (void)txn.RevokePrincipal("acme", "tok_none", kStoreT0);
    (void)txn.RevokePrincipal("", "tok_none", kStoreT0);
    OutboxRow row;
    row.delivery_id = "dlv_1";
    row.tenant = "acme";
    row.request_id = pending_id;
    row.destination = "webhook:ops";
    row.kind = "event";
    row.event = "request.created";
    row.payload = "{}";
    row.next_attempt_at = kStoreT0;
    row.created_at = kStoreT0;
    (void)txn.InsertOutbox(row);
    row.state = "failed";
    (void)txn.UpdateOutbox(row);
    (void)txn.RetryOutbox("acme", "dlv_1", kStoreT0);
    (void)txn.RetryOutbox("", "dlv_1", kStoreT0);
    (void)txn.PutChannelMessage(pending_id, "slack", "ts-1");
    (void)txn.FindAuditHead();
    (void)txn.LastEventAt(pending_id, "request.created");
    Conversation conversation;
    conversation.request_id = pending_id;
    conversation.tenant = "acme";
    conversation.subject = "slack:U1";
    conversation.feed_ts = "1.2";
    conversation.step_due = kStoreT0;
    (void)txn.InsertConversation(conversation);
    (void)txn.FindConversation("acme", pending_id);
    (void)txn.UpdateConversation(conversation);
    (void)txn.FindConversationByThread("acme", "1.2");
    (void)txn.FindConversationsWith("acme", "slack:U1", ConversationPhase::kPosted);
    ConversationMessage message;
    message.request_id = pending_id;
    message.text = "hello";
    message.at = kStoreT0;
    message.external_id = "ext-1";
    (void)txn.AppendMessage(message);
    (void)txn.ListMessagesIn(pending_id);
  });
  Exercise(*store, [&](Transaction& txn) {
    auto head = txn.FindAuditHead();
    if (head.ok()) (void)txn.PutAuditCheckpoint({head->seq, head->hash, kStoreT0});
  });
  // Retention, last among the writes: it removes resolved requests with everything hanging
  // off them (before: far in the future, so any resolved request qualifies).
  Exercise(*store,
           [&](Transaction& txn) { (void)txn.PruneResolved(kStoreT0 + Millis(86400000000), 3); });

  // -- reads --------------------------------------------------------------------------------
  const auto list = [&](auto&& set_filter) {
    RequestFilter filter = testing::Requests("acme", 20);
    set_filter(filter);
    auto page = store->ListRequests(filter);
    EXPECT_TRUE(page.ok()) << page.error().message;
  };
  list([](RequestFilter&) {});
  list([](RequestFilter& f) { f.status = RequestStatus::kPending; });
  list([](RequestFilter& f) { f.action = "action_3"; });
  list([](RequestFilter& f) { f.requester = "agent_3"; });
  list([](RequestFilter& f) { f.session = "session_3"; });
  list([&](RequestFilter& f) { f.cursor = RequestId(1001); });
  list([&](RequestFilter& f) {
    f.status = RequestStatus::kPending;
    f.cursor = RequestId(1001);
  });
  list([](RequestFilter& f) {
    f.status = RequestStatus::kApproved;
    f.requester = "agent_3";
  });
  list([](RequestFilter& f) {
    f.created_from = kStoreT0;
    f.created_before = kStoreT0 + Millis(500);
  });
  (void)store->GetRequest("acme", pending_id);

  const auto events = [&](auto&& set_filter) {
    EventFilter filter = testing::Events();
    set_filter(filter);
    auto listed = store->ListEvents(filter);
    EXPECT_TRUE(listed.ok()) << listed.error().message;
  };
  events([](EventFilter&) {});
  events([](EventFilter& f) { f.since = 100; });
  events([](EventFilter& f) { f.tenant = "acme"; });
  events([&](EventFilter& f) { f.request_id = pending_id; });
  events([&](EventFilter& f) {
    f.tenant = "acme";
    f.request_id = pending_id;
  });
  events([](EventFilter& f) {
    f.tenant = "acme";
    f.newest_first = true;
    f.before = 500;
  });
  events([](EventFilter& f) { f.newest_first = true; });
  events([](EventFilter& f) { f.type_prefix = "decision."; });
  events([](EventFilter& f) {
    f.tenant = "acme";
    f.actor = "alice";
  });
  events([](EventFilter& f) {
    f.from = kStoreT0;
    f.until = kStoreT0 + Millis(1000);
  });

  (void)store->VerifyAudit();
  auto checkpoint = store->GetAuditCheckpoint();
  if (checkpoint.ok()) (void)store->VerifyAudit(*checkpoint, 100);
  (void)store->GetAuditHead();
  (void)store->ListPendingDeadlines(DeadlineCursor{}, 100);
  (void)store->ListPendingDeadlines(DeadlineCursor{kStoreT0, "req_1"}, 100);
  (void)store->ListPendingReminders();
  (void)store->CountPending("acme");
  (void)store->FindPrincipalByTokenHash("hash-1");
  (void)store->ListPrincipals("acme");
  (void)store->ListPrincipals("");
  (void)store->CountRequestsByStatus();
  (void)store->CountUnreported(kStoreT0);
  (void)store->FindActiveGrant("acme", "action_1", "session_1", "agent_1", kStoreT0);
  (void)store->LatestGrantExpiry();
  (void)store->ListGrants("acme");
  (void)store->ListDueOutbox(kStoreT0, 10);
  (void)store->NextOutboxDue();
  (void)store->ListOutbox("", "", "", 10);
  (void)store->ListOutbox("acme", "", "", 10);
  (void)store->ListOutbox("acme", "failed", "", 10);
  (void)store->ListOutbox("", "failed", "", 10);
  (void)store->ListOutbox("", "pending", "", 10);
  (void)store->ListOutbox("", "delivered", "", 10);
  (void)store->ListOutbox("acme", "delivered", "", 10);
  (void)store->ListOutbox("acme", "", pending_id, 10);
  (void)store->CountOutboxByState();
  (void)store->FindChannelMessage(pending_id, "slack");
  (void)store->GetConversation("acme", pending_id);
  (void)store->ListMessages(pending_id, 0, 10);
  (void)store->ListDueConversations(kStoreT0, 10);
  (void)store->NextConversationDue();
  recorder.Stop();
  store->Stop();
  store.reset();

  const std::set<std::string> statements = recorder.Statements();
  // The calls above reached the queries this test is about (a part of each statement's text,
  // so a call that stopped reaching one is noticed).
  for (std::string_view part : {"FROM requests WHERE tenant = ?1 ORDER BY",
                                "AND status = ?2",
                                "AND action = ?3",
                                "AND requester = ?4",
                                "AND session = ?5",
                                "AND id < ?6",
                                "AND created_at >= ?8",
                                "FROM requests WHERE id = ?1 AND tenant = ?2",
                                "FROM events WHERE seq > ?1 AND tenant",
                                "AND request_id = ?3",
                                "FROM decisions WHERE request_id",
                                "WHERE token_sha256 = ?1",
                                "FROM grants WHERE tenant = ?1 AND action = ?2",
                                "FROM outbox o WHERE state = 'pending'",
                                "FROM idempotency WHERE tenant = ?1 AND key = ?2",
                                "FROM receipt_uses WHERE jti = ?1",
                                "FROM requests WHERE status = 'pending'",
                                "WHERE tenant = ?1 AND requester = ?2",
                                "DELETE FROM requests WHERE id = ?1",
                                "DELETE FROM idempotency WHERE request_id",
                                "FROM events WHERE type = 'audit.checkpoint'",
                                "FROM conversations",
                                "FROM conversation_messages"}) {
    bool found = false;
    for (const auto& sql : statements) found = found || sql.find(part) != std::string::npos;
    EXPECT_TRUE(found) << "no recorded statement contains \"" << part << "\"";
  }

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const auto partial = PartialIndexes(db);
  EXPECT_TRUE(partial.contains("outbox_pending_id"));
  int planned = 0;
  for (const auto& sql : statements) {
    if (IsTransactionControl(sql)) continue;
    std::string error;
    const auto details = ExplainQueryPlan(db, sql, &error);
    EXPECT_TRUE(error.empty()) << sql << ": " << error;
    ++planned;
    std::cout << sql << "\n";
    for (const auto& detail : details) {
      std::cout << "    " << detail << "\n";
      const std::string table = ScannedTable(detail, sql, partial);
      if (table.empty()) continue;
      bool accepted = false;
      for (const auto& [part, why] : kAcceptedScans) {
        accepted = accepted || sql.find(part) != std::string::npos;
      }
      EXPECT_TRUE(accepted) << "a full scan of " << table << " (\"" << detail << "\") in: " << sql;
    }
  }
  sqlite3_close_v2(db);
  EXPECT_GT(planned, 50);
}

}  // namespace
}  // namespace countersign
