// What only PgStore does (pg_store.hpp): several replicas on one database share one audit chain,
// hear each other's commits, and lease outbox rows to one another; the schema is migrated once
// however many start together; and a database that goes away costs the operations that met the
// outage, not the store. The Store interface itself is tested on both stores by the suites of
// src/store/sql/.
#include "store/postgres/pg_store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/pg_test_database.hpp"
#include "testing/raw_database.hpp"
#include "testing/store_test_values.hpp"

namespace countersign {
namespace {

using testing::AppendOne;
using testing::MakeDraft;
using testing::MakeRequest;
using testing::PgTestDatabase;
using testing::RawDatabase;
using testing::WriteAndWait;

const TimePoint kT0 = testing::kStoreT0;

// Bounds how long a test waits for another thread or replica to report; never a timing
// assertion (a healthy run takes milliseconds).
constexpr auto kBound = std::chrono::seconds(30);

// The seqs a store's commit listener heard, in the order it heard them, and a wait for them.
// The listener shares what it records, so it may outlive this object (a store is stopped after
// the test's locals are gone).
class HeardSeqs {
 public:
  explicit HeardSeqs(Store& store) : heard_(std::make_shared<Heard>()) {
    store.AddCommitListener([heard = heard_](const std::vector<Event>& events) {
      {
        std::lock_guard lock(heard->mu);
        for (const auto& e : events) heard->seqs.push_back(e.seq);
      }
      heard->cv.notify_all();
    });
  }

  // Waits until seq `through` was heard (or kBound passed); what was heard by then.
  std::vector<int64_t> WaitThrough(int64_t through) {
    std::unique_lock lock(heard_->mu);
    heard_->cv.wait_for(lock, kBound, [&] {
      return std::find(heard_->seqs.begin(), heard_->seqs.end(), through) != heard_->seqs.end();
    });
    return heard_->seqs;
  }

 private:
  struct Heard {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int64_t> seqs;
  };
  std::shared_ptr<Heard> heard_;
};

std::vector<int64_t> OneThrough(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

OutboxRow MakeOutboxRow(std::string delivery_id, std::string request_id) {
  OutboxRow r;
  r.delivery_id = std::move(delivery_id);
  r.tenant = "default";
  r.request_id = std::move(request_id);
  r.destination = "webhook:sink";
  r.kind = "event";
  r.event = "request.created";
  r.payload = "{}";
  r.next_attempt_at = kT0;
  r.created_at = kT0;
  return r;
}

std::set<std::string> DeliveryIds(const std::vector<OutboxRow>& rows) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.delivery_id);
  return out;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = PgTestDatabase::Create();
    ASSERT_TRUE(created.ok()) << created.error().message;
    database_ = std::move(created).value();
  }

  PgStoreOptions Options(std::string replica_id) const {
    PgStoreOptions options;
    options.url = database_->url();
    options.replica_id = std::move(replica_id);
    options.read_connections = 2;
    return options;
  }

  // A replica on the test's database; null with a test failure when it cannot be opened.
  std::unique_ptr<PgStore> OpenReplica(const PgStoreOptions& options) {
    auto opened = PgStore::Open(options);
    if (!opened.ok()) {
      ADD_FAILURE() << "PgStore::Open failed: " << opened.error().message;
      return nullptr;
    }
    return std::move(opened).value();
  }

  RawDatabase Raw() const { return RawDatabase::Postgres(database_->url()); }
  RawDatabase Admin() const { return RawDatabase::Postgres(database_->admin_url()); }
  std::string RawQuery(const std::string& sql) const {
    auto value = Raw().Query(sql);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() ? *value : "<error>";
  }

  // Ends every connection to the test's database but the admin's own.
  void TerminateBackends() {
    auto ended = Admin().Query(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
        database_->name() + "' AND pid <> pg_backend_pid()");
    ASSERT_TRUE(ended.ok()) << ended.error().message;
    EXPECT_NE(*ended, "0") << "the store had no connection to end";
  }

  void AllowConnections(bool allow) {
    Status altered = Admin().Exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS " +
                                  (allow ? "true" : "false"));
    ASSERT_TRUE(altered.ok()) << altered.error().message;
  }

  std::unique_ptr<PgTestDatabase> database_;
};

constexpr char kMigrationsApplied[] =
    "SELECT string_agg(version || ' ' || name || ' ' || applied_at, ', ' ORDER BY version) "
    "FROM schema_migrations";

TEST_F(PostgresStoreTest, OpenAppliesTheSchemaOnceAndReopeningAppliesNothing) {
  auto store = OpenReplica(Options("a"));
  ASSERT_TRUE(store);
  EXPECT_EQ(RawQuery("SELECT string_agg(version || ' ' || name, ', ' ORDER BY version) "
                     "FROM schema_migrations"),
            "1 001_initial.sql, 2 002_closing_the_loop.sql, 3 003_pending_reminders.sql, "
            "4 004_api_query_indexes.sql, 5 005_list_filter_indexes.sql");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                     "'public' AND table_name IN ('requests', 'decisions', 'events', "
                     "'principals', 'idempotency', 'outbox', 'conversations')"),
            "7");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM pg_indexes WHERE indexname = "
                     "'requests_pending_deadline'"),
            "1");
  const std::string applied = RawQuery(kMigrationsApplied);
  ASSERT_TRUE(WriteAndWait(*store, [](Transaction& txn) {
                return txn.InsertRequest(MakeRequest("req_001"));
              }).ok());
  store.reset();

  // The same row, applied_at included: nothing ran again, and the data is still there.
  store = OpenReplica(Options("a"));
  ASSERT_TRUE(store);
  EXPECT_EQ(RawQuery(kMigrationsApplied), applied);
  auto got = store->GetRequest("default", "req_001");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->has_value());
}

TEST_F(PostgresStoreTest, MigrateTwiceAndFromFourThreadsAtOnceAppliesTheSchemaOnce) {
  auto first = PgStore::Migrate(database_->url());
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 5);
  const std::string applied = RawQuery(kMigrationsApplied);
  auto second = PgStore::Migrate(database_->url());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, 5);
  EXPECT_EQ(RawQuery(kMigrationsApplied), applied);

  // A database nobody has migrated, and four migrations started together.
  auto fresh = PgTestDatabase::Create();
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  const std::string url = (*fresh)->url();
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<Result<int64_t>> results(kThreads, Error::Internal("did not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = PgStore::Migrate(url);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(*result, 5);
  }
  auto rows = RawDatabase::Postgres(url).Query(
      "SELECT string_agg(version || ' ' || name, ', ' ORDER BY version) FROM schema_migrations");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows,
            "1 001_initial.sql, 2 002_closing_the_loop.sql, 3 003_pending_reminders.sql, "
            "4 004_api_query_indexes.sql, 5 005_list_filter_indexes.sql");
}

TEST_F(PostgresStoreTest, ASchemaNewerThanThisBinaryIsRefusedByMigrate) {
  ASSERT_TRUE(PgStore::Migrate(database_->url()).ok());
  ASSERT_TRUE(Raw()
                  .Exec("INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (6, '006_future.sql', 0)")
                  .ok());
  auto refused = PgStore::Migrate(database_->url());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(testing::HasText(refused.error().message, "newer"));
}

TEST_F(PostgresStoreTest, AWriteThroughOneReplicaIsHeardByTheOtherOnceAndInSeqOrder) {
  auto a = OpenReplica(Options("replica-a"));
  auto b = OpenReplica(Options("replica-b"));
  ASSERT_TRUE(a && b);
  HeardSeqs heard_by_a(*a);
  HeardSeqs heard_by_b(*b);

  // Ten writes through A of one to three events each.
  int64_t last = 0;
  for (int i = 0; i < 10; ++i) {
    Status written = WriteAndWait(*a, [&, i](Transaction& txn) -> Status {
      for (int k = 0; k <= i % 3; ++k) {
        auto seq = txn.AppendEvent(
            MakeDraft("default", "req_" + std::to_string(i), "request.created", {{"k", k}}));
        if (!seq.ok()) return std::move(seq).error();
        last = *seq;
      }
      return Ok();
    });
    ASSERT_TRUE(written.ok()) << written.error().message;
  }
  ASSERT_EQ(last, 19);
  EXPECT_EQ(heard_by_b.WaitThrough(last), OneThrough(last));

  // One more through B: B hears it, and nothing of A's again before it; A hears it too.
  auto own = AppendOne(*b, MakeDraft("default", "req_b", "request.created", {}));
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ(*own, last + 1);
  EXPECT_EQ(heard_by_b.WaitThrough(last + 1), OneThrough(last + 1));
  EXPECT_EQ(heard_by_a.WaitThrough(last + 1), OneThrough(last + 1));
}

TEST_F(PostgresStoreTest, ConcurrentWritesThroughTwoReplicasKeepOneGaplessChain) {
  auto a = OpenReplica(Options("replica-a"));
  auto b = OpenReplica(Options("replica-b"));
  ASSERT_TRUE(a && b);
  HeardSeqs heard_by_a(*a);
  HeardSeqs heard_by_b(*b);

  constexpr int kThreadsPerReplica = 2;
  constexpr int kWritesPerThread = 50;
  constexpr int kTotal = 2 * kThreadsPerReplica * kWritesPerThread;
  std::latch start(2 * kThreadsPerReplica);
  std::latch done(kTotal);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerReplica; ++t) {
    PgStore& store = t % 2 == 0 ? *a : *b;
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int n = 0; n < kWritesPerThread; ++n) {
        const std::string id = "req_" + std::to_string(t) + "_" + std::to_string(n);
        // Each write appends two events, which must stay next to each other in the chain.
        store.Write(
            [id](Transaction& txn) -> Status {
              CS_RETURN_IF_ERROR(txn.InsertRequest(MakeRequest(id)));
              for (const char* type : {"request.created", "request.notified"}) {
                auto seq = txn.AppendEvent(MakeDraft("default", id, type, {}));
                if (!seq.ok()) return std::move(seq).error();
              }
              return Ok();
            },
            [&](Status status) {
              if (!status.ok()) {
                ADD_FAILURE() << status.error().message;
                ++failures;
              }
              done.count_down();
            });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.wait();
  ASSERT_EQ(failures.load(), 0);

  auto events = a->ListEvents(testing::Events("", "", 0, 1000));
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), static_cast<size_t>(2 * kTotal));
  std::set<std::string> requests;
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].seq, static_cast<int64_t>(i + 1));
    if (i % 2 == 1) {
      EXPECT_EQ((*events)[i].request_id, (*events)[i - 1].request_id) << "seq " << i + 1;
      requests.insert((*events)[i].request_id);
    }
  }
  EXPECT_EQ(requests.size(), static_cast<size_t>(kTotal));
  for (PgStore* store : {a.get(), b.get()}) {
    auto report = store->VerifyAudit();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->ok) << report->reason << " at " << report->first_bad_seq;
    EXPECT_EQ(report->events_checked, 2 * kTotal);
  }
  EXPECT_EQ(heard_by_a.WaitThrough(2 * kTotal), OneThrough(2 * kTotal));
  EXPECT_EQ(heard_by_b.WaitThrough(2 * kTotal), OneThrough(2 * kTotal));
}

TEST_F(PostgresStoreTest, TwoReplicasListingTheOutboxAtOnceNeverBothGetARow) {
  auto a = OpenReplica(Options("replica-a"));
  auto b = OpenReplica(Options("replica-b"));
  ASSERT_TRUE(a && b);
  constexpr int kRows = 40;
  std::set<std::string> all;
  ASSERT_TRUE(WriteAndWait(*a, [&](Transaction& txn) -> Status {
                for (int i = 0; i < kRows; ++i) {
                  OutboxRow row =
                      MakeOutboxRow("dlv_" + std::to_string(i), "req_" + std::to_string(i));
                  CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
                  all.insert(row.delivery_id);
                }
                return Ok();
              }).ok());

  std::latch start(2);
  Result<std::vector<OutboxRow>> from_a = Error::Internal("did not run");
  Result<std::vector<OutboxRow>> from_b = Error::Internal("did not run");
  std::thread thread_a([&] {
    start.arrive_and_wait();
    from_a = a->ListDueOutbox(kT0, kRows);
  });
  std::thread thread_b([&] {
    start.arrive_and_wait();
    from_b = b->ListDueOutbox(kT0, kRows);
  });
  thread_a.join();
  thread_b.join();
  ASSERT_TRUE(from_a.ok()) << from_a.error().message;
  ASSERT_TRUE(from_b.ok()) << from_b.error().message;
  const std::set<std::string> ids_a = DeliveryIds(*from_a);
  const std::set<std::string> ids_b = DeliveryIds(*from_b);
  std::vector<std::string> both;
  std::set_intersection(ids_a.begin(), ids_a.end(), ids_b.begin(), ids_b.end(),
                        std::back_inserter(both));
  EXPECT_TRUE(both.empty()) << both.size() << " rows went to both replicas, e.g. " << both[0];
  std::set<std::string> either = ids_a;
  either.insert(ids_b.begin(), ids_b.end());
  EXPECT_EQ(either, all);

  // Listed again, each replica gets its own rows back and none of the other's.
  auto again_a = a->ListDueOutbox(kT0, kRows);
  auto again_b = b->ListDueOutbox(kT0, kRows);
  ASSERT_TRUE(again_a.ok() && again_b.ok());
  EXPECT_EQ(DeliveryIds(*again_a), ids_a);
  EXPECT_EQ(DeliveryIds(*again_b), ids_b);
}

TEST_F(PostgresStoreTest, ALeasedOutboxRowGoesToAnotherReplicaOnlyAfterTheAttemptOrTheLease) {
  PgStoreOptions options_a = Options("replica-a");
  auto a = OpenReplica(options_a);
  auto b = OpenReplica(Options("replica-b"));
  ASSERT_TRUE(a && b);
  const auto lease = options_a.outbox_lease;
  OutboxRow row = MakeOutboxRow("dlv_attempted", "req_1");
  OutboxRow other = MakeOutboxRow("dlv_abandoned", "req_2");
  // Queued behind dlv_attempted (same destination and request): no replica lists it while that
  // row is pending, whoever holds it.
  OutboxRow behind = MakeOutboxRow("dlv_behind", "req_1");
  ASSERT_TRUE(WriteAndWait(*a, [&](Transaction& txn) -> Status {
                CS_RETURN_IF_ERROR(txn.InsertOutbox(row));
                CS_RETURN_IF_ERROR(txn.InsertOutbox(other));
                return txn.InsertOutbox(behind);
              }).ok());
  const auto listed = [](PgStore& store, TimePoint now) {
    auto due = store.ListDueOutbox(now, 10);
    EXPECT_TRUE(due.ok()) << due.error().message;
    return due.ok() ? *due : std::vector<OutboxRow>{};
  };
  const auto find = [](const std::vector<OutboxRow>& rows,
                       const std::string& delivery_id) -> std::optional<OutboxRow> {
    for (const auto& r : rows) {
      if (r.delivery_id == delivery_id) return r;
    }
    return std::nullopt;
  };

  ASSERT_EQ(DeliveryIds(listed(*a, kT0)),
            (std::set<std::string>{"dlv_attempted", "dlv_abandoned"}));
  EXPECT_TRUE(listed(*b, kT0).empty());
  EXPECT_EQ(RawQuery("SELECT lease_owner FROM outbox WHERE delivery_id = 'dlv_attempted'"),
            "replica-a");

  // A records a failed attempt, due again now: the lease ends and B may take the row.
  row.attempts = 1;
  row.last_error = "HTTP 503";
  ASSERT_TRUE(WriteAndWait(*a, [&](Transaction& txn) { return txn.UpdateOutbox(row); }).ok());
  auto taken = find(listed(*b, kT0), "dlv_attempted");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->id, row.id);
  EXPECT_EQ(taken->attempts, 1);
  EXPECT_EQ(taken->last_error, "HTTP 503");
  EXPECT_FALSE(find(listed(*a, kT0), "dlv_attempted").has_value());
  EXPECT_FALSE(find(listed(*a, kT0), "dlv_behind").has_value());
  EXPECT_FALSE(find(listed(*b, kT0), "dlv_behind").has_value());

  // A never records its attempt at the other row: B gets it once A's lease has run out (the
  // lease runs from kT0, when A listed it), not a moment before, with the same delivery id.
  EXPECT_FALSE(find(listed(*b, kT0 + lease - Millis(1)), "dlv_abandoned").has_value());
  auto abandoned = find(listed(*b, kT0 + lease), "dlv_abandoned");
  ASSERT_TRUE(abandoned.has_value());
  EXPECT_EQ(abandoned->id, other.id);
  EXPECT_EQ(RawQuery("SELECT lease_owner FROM outbox WHERE delivery_id = 'dlv_abandoned'"),
            "replica-b");
  EXPECT_FALSE(find(listed(*a, kT0 + lease), "dlv_abandoned").has_value());
}

TEST_F(PostgresStoreTest, AnOutageFailsWritesAndReadsWithUnavailableUntilTheDatabaseIsBack) {
  PgStoreOptions options = Options("replica-a");
  auto store = OpenReplica(options);
  ASSERT_TRUE(store);
  HeardSeqs heard(*store);
  ASSERT_TRUE(WriteAndWait(*store, [](Transaction& txn) {
                return txn.InsertRequest(MakeRequest("req_0"));
              }).ok());
  ASSERT_TRUE(AppendOne(*store, MakeDraft("default", "req_0", "request.created", {})).ok());
  auto before = store->GetRequest("default", "req_0");  // a reader is open
  ASSERT_TRUE(store->Ping().ok());

  // The database refuses new connections and every open one ends.
  AllowConnections(false);
  TerminateBackends();
  for (int i = 0; i < 3; ++i) {
    auto written = AppendOne(*store, MakeDraft("default", "req_lost", "request.created", {}));
    ASSERT_FALSE(written.ok()) << "write " << i << " succeeded during the outage";
    EXPECT_EQ(written.error().code, ErrorCode::kUnavailable) << written.error().message;
  }
  Status health = store->WriterHealth();
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.error().code, ErrorCode::kUnavailable);
  for (int i = 0; i < options.read_connections + 1; ++i) {
    auto read = store->GetRequest("default", "req_0");
    ASSERT_FALSE(read.ok()) << "read " << i << " succeeded during the outage";
    EXPECT_EQ(read.error().code, ErrorCode::kUnavailable) << read.error().message;
  }
  Status ping = store->Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);

  // Back: the same store writes and reads again. The writer reconnects at most every 250 ms,
  // so writes until then still fail, each with kUnavailable.
  AllowConnections(true);
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  Result<int64_t> written = Error::Unavailable("not tried");
  int attempts = 0;
  while (!written.ok() && std::chrono::steady_clock::now() < deadline) {
    ++attempts;
    written = AppendOne(*store, MakeDraft("default", "req_1", "request.created", {}));
    if (!written.ok()) {
      ASSERT_EQ(written.error().code, ErrorCode::kUnavailable) << written.error().message;
      std::this_thread::yield();
    }
  }
  ASSERT_TRUE(written.ok()) << "no write succeeded in " << attempts << " attempts after the "
                            << "outage: " << written.error().message;
  EXPECT_EQ(*written, 2);  // the writes that failed appended nothing
  EXPECT_TRUE(store->WriterHealth().ok());
  Result<std::optional<Request>> read = Error::Unavailable("not tried");
  for (int i = 0; i < options.read_connections + 1 && !read.ok(); ++i) {
    read = store->GetRequest("default", "req_0");
  }
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->has_value());
  EXPECT_TRUE(store->Ping().ok());
  auto report = store->VerifyAudit();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 2);
  EXPECT_EQ(heard.WaitThrough(2), OneThrough(2));
}

TEST_F(PostgresStoreTest, EndedConnectionsCostAFewOperationsAndNoRestart) {
  PgStoreOptions options = Options("replica-a");
  auto store = OpenReplica(options);
  ASSERT_TRUE(store);
  HeardSeqs heard(*store);
  ASSERT_TRUE(WriteAndWait(*store, [](Transaction& txn) {
                return txn.InsertRequest(MakeRequest("req_0"));
              }).ok());
  ASSERT_TRUE(AppendOne(*store, MakeDraft("default", "req_0", "request.created", {})).ok());
  auto before = store->GetRequest("default", "req_0");  // a reader is open
  ASSERT_TRUE(before.ok() && before->has_value());

  TerminateBackends();
  // The next write meets the ended connection (kUnavailable) or already a new one; the writer
  // reconnects at once after the first failure, then at most every 250 ms.
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  Result<int64_t> written = Error::Unavailable("not tried");
  int attempts = 0;
  while (!written.ok() && std::chrono::steady_clock::now() < deadline) {
    ++attempts;
    written = AppendOne(*store, MakeDraft("default", "req_1", "request.created", {}));
    if (!written.ok()) {
      ASSERT_EQ(written.error().code, ErrorCode::kUnavailable) << written.error().message;
      std::this_thread::yield();
    }
  }
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_LE(attempts, 2) << "writes failed after the writer could have reconnected";
  EXPECT_EQ(*written, 2);
  // Each ended reader costs one read at most.
  int failed_reads = 0;
  Result<std::optional<Request>> read = Error::Unavailable("not tried");
  for (int i = 0; i < options.read_connections + 1 && !read.ok(); ++i) {
    read = store->GetRequest("default", "req_0");
    if (!read.ok()) {
      ++failed_reads;
      EXPECT_EQ(read.error().code, ErrorCode::kUnavailable) << read.error().message;
    }
  }
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->has_value());
  EXPECT_LE(failed_reads, options.read_connections);
  EXPECT_EQ(heard.WaitThrough(2), OneThrough(2));
}

}  // namespace
}  // namespace countersign
