#include "store/postgres/pg_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"
#include "store/migration_set.hpp"
#include "store/schema_migrations.hpp"
#include "store/sql/sql_rows.hpp"

namespace countersign {

namespace {

// The advisory lock keys: the audit chain's head (every write transaction, released at COMMIT)
// and schema migrations (a session lock around them). Arbitrary, fixed, and distinct.
constexpr char kChainLock[] = "SELECT pg_advisory_xact_lock(7236052436561520641)";
constexpr char kMigrationLock[] = "SELECT pg_advisory_lock(7236052436561520642)";
constexpr char kMigrationUnlock[] = "SELECT pg_advisory_unlock(7236052436561520642)";

constexpr auto kReconnectEvery = std::chrono::milliseconds(250);

Error Prefixed(std::string_view prefix, Error error) {
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

// The versions recorded so far; creates the (empty) table on a new database, where the first
// migration then records itself.
Result<std::set<int64_t>> AppliedVersions(PgConnection& db) {
  CS_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
              "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  return SchemaMigrations::AppliedVersions(db);
}

Status ApplyMigration(PgConnection& db, const Migration& migration) {
  Status status = db.Exec("BEGIN");
  if (status.ok()) status = MigrationSet::Apply(db, migration);
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok()) {
    if (db.InTransaction()) (void)db.Exec("ROLLBACK");
    return Prefixed("migration " + migration.name + " failed", std::move(status).error());
  }
  spdlog::info("store: applied PostgreSQL schema migration {}", migration.name);
  return Ok();
}

// Migrates under the session advisory lock: a second replica starting at the same time waits,
// then finds nothing left to apply. Returns the schema version.
Result<int64_t> MigrateLocked(PgConnection& db) {
  auto known = SchemaMigrations::Known(SqlDialect::kPostgres);
  if (!known.ok()) return std::move(known).error();
  CS_RETURN_IF_ERROR(db.Exec(kMigrationLock));
  auto migrate = [&]() -> Result<int64_t> {
    auto applied = AppliedVersions(db);
    if (!applied.ok()) return std::move(applied).error();
    if (!applied->empty() && *applied->rbegin() > known->newest()) {
      return Error::Internal("database schema version " + std::to_string(*applied->rbegin()) +
                             " is newer than this binary supports (" +
                             std::to_string(known->newest()) + "); use a newer countersign");
    }
    for (const auto& migration : known->migrations()) {
      if (applied->contains(migration.version)) continue;
      CS_RETURN_IF_ERROR(ApplyMigration(db, migration));
    }
    return known->newest();
  };
  auto version = migrate();
  (void)db.Exec(kMigrationUnlock);
  return version;
}

std::string DefaultReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         std::to_string(random() % 1000000);
}

// The last event's seq, 0 when there is none.
Result<int64_t> LastSeq(PgConnection& db) {
  auto last = db.Prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
  if (!last.ok()) return std::move(last).error();
  auto row = (*last)->Step();
  if (!row.ok()) return std::move(row).error();
  return *row ? (*last)->ColumnInt64(0) : 0;
}

}  // namespace

Result<int64_t> PgStore::Migrate(const std::string& url) {
  auto db = PgConnection::Open(url, "countersign-migrate");
  if (!db.ok()) return std::move(db).error();
  return MigrateLocked(**db);
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const PgStoreOptions& options) {
  if (options.read_connections < 1) return Error::Invalid("read_connections must be at least 1");
  auto writer = PgConnection::Open(options.url, "countersign-writer");
  if (!writer.ok()) return std::move(writer).error();
  if (auto version = MigrateLocked(**writer); !version.ok()) return std::move(version).error();
  auto last = LastSeq(**writer);
  if (!last.ok()) return std::move(last).error();
  std::unique_ptr<PgStore> store(new PgStore(options, std::move(writer).value(), *last));
  store->feed_->Start();
  store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  store->writer_id_ = store->writer_thread_.get_id();
  spdlog::info("store: PostgreSQL, replica {}, audit chain at seq {}", store->replica_id(), *last);
  return store;
}

PgStore::PgStore(const PgStoreOptions& options, std::unique_ptr<PgConnection> writer,
                 int64_t last_seq)
    : options_(options), writer_(std::move(writer)), queue_(options.max_queue) {
  if (options_.replica_id.empty()) options_.replica_id = DefaultReplicaId();
  feed_ = std::make_unique<PgEventFeed>(
      PgEventFeedOptions{.url = options_.url, .poll = options_.feed_poll}, last_seq,
      [this](int64_t after, int limit) { return ReadEventsAfter(after, limit); });
}

PgStore::~PgStore() { Stop(); }

void PgStore::Stop() {
  queue_.Close();
  if (std::this_thread::get_id() == writer_id_) return;  // from a `done`: intake stops only
  std::lock_guard<std::mutex> guard(stop_mu_);
  if (writer_thread_.joinable()) writer_thread_.join();
  if (feed_) feed_->Stop();
}

void PgStore::AddCommitListener(CommitListener listener) {
  feed_->AddListener(std::move(listener));
}

void PgStore::Write(WriteFn fn, WriteDone done) { queue_.Push({std::move(fn), std::move(done)}); }

void PgStore::WriterLoop() {
  std::vector<PendingWrite> batch;
  while (queue_.TakeBatch(batch, options_.max_batch)) CommitBatch(batch);
}

Status PgStore::EnsureWriter() {
  if (writer_ && !writer_->Broken()) return Ok();
  writer_.reset();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_connect_) {
    MutexLock lock(mu_);
    if (outage_) return *outage_;
    return Error::Unavailable("PostgreSQL is unreachable");
  }
  next_connect_ = now + kReconnectEvery;
  auto opened = PgConnection::Open(options_.url, "countersign-writer");
  if (!opened.ok()) return std::move(opened).error();
  writer_ = std::move(opened).value();
  spdlog::info("store: the writer reconnected to PostgreSQL");
  return Ok();
}

std::optional<Error> PgStore::RunBatch(std::vector<PendingWrite>& batch,
                                       std::vector<Status>& results, std::vector<Event>& events) {
  if (Status up = EnsureWriter(); !up.ok()) return std::move(up).error();
  PgConnection& db = *writer_;
  // One operation alone needs no savepoint: if it fails, the whole transaction rolls back.
  // Otherwise each operation runs in savepoint `op`; the statements that end one operation's
  // savepoint and open the next travel together, as do BEGIN, the chain lock and the first.
  const bool savepoints = batch.size() > 1;
  std::string begin = std::string("BEGIN; ") + kChainLock;
  if (savepoints) begin += "; SAVEPOINT op";
  if (Status begun = db.Exec(begin); !begun.ok()) {
    return Prefixed("cannot start a write transaction", std::move(begun).error());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const bool last = i + 1 == batch.size();
    const size_t events_before = events.size();
    Status status = RunPendingWrite(db, batch[i], events);
    if (status.ok() && savepoints)
      status = db.Exec(last ? "RELEASE op" : "RELEASE op; SAVEPOINT op");
    if (status.ok()) continue;
    events.resize(events_before);
    if (db.Broken()) {
      return Prefixed("a write failed", std::move(status).error());
    }
    results[i] = std::move(status);
    if (!savepoints) {
      (void)db.Exec("ROLLBACK");
      return std::nullopt;
    }
    // ROLLBACK TO keeps the savepoint: the next operation runs in it as it is.
    Status undone = db.Exec(last ? "ROLLBACK TO op; RELEASE op" : "ROLLBACK TO op");
    if (!undone.ok()) {
      return Prefixed("cannot roll back a failed operation (" + results[i].error().message + ")",
                      std::move(undone).error());
    }
  }
  std::string commit = "COMMIT";
  if (!events.empty()) {
    commit = "NOTIFY " + std::string(PgEventFeed::kChannel) + ", '" +
             std::to_string(events.back().seq) + "'; COMMIT";
  }
  const auto started = std::chrono::steady_clock::now();
  if (Status committed = db.Exec(commit); !committed.ok()) {
    return Prefixed("cannot commit", std::move(committed).error());
  }
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  MutexLock lock(mu_);
  stats_.RecordCommit(batch.size(), took.count());
  outage_.reset();
  return std::nullopt;
}

void PgStore::CommitBatch(std::vector<PendingWrite>& batch) {
  std::vector<Status> results(batch.size());
  std::vector<Event> events;
  std::optional<Error> failed = RunBatch(batch, results, events);
  if (failed) {
    if (writer_ && writer_->InTransaction()) (void)writer_->Exec("ROLLBACK");
    if (failed->code != ErrorCode::kUnavailable) failed->code = ErrorCode::kUnavailable;
    spdlog::error("store: a batch of {} writes failed: {}", batch.size(), failed->message);
    {
      MutexLock lock(mu_);
      outage_ = *failed;
    }
    for (auto& result : results) result = *failed;
    events.clear();
  } else if (results.size() == 1 && !results[0].ok()) {
    events.clear();  // the lone operation failed and its transaction rolled back
  }
  if (!events.empty()) feed_->Committed(events);
  CompletePendingWrites(batch, results);
}

Result<std::vector<Event>> PgStore::ReadEventsAfter(int64_t after, int limit) {
  EventFilter filter;
  filter.since = after;
  filter.limit = limit;
  return ListEvents(filter);
}

Result<SqlStore::Lease> PgStore::Borrow() {
  {
    MutexLock lock(readers_mu_);
    for (;;) {
      if (!free_readers_.empty()) {
        PgConnection* connection = free_readers_.back().release();
        free_readers_.pop_back();
        return Lease(*this, connection);
      }
      if (open_readers_ < options_.read_connections) break;
      lock.Wait(readers_cv_);
    }
    ++open_readers_;
  }
  auto opened = PgConnection::Open(options_.url, "countersign-reader");
  if (!opened.ok()) {
    {
      MutexLock lock(readers_mu_);
      --open_readers_;
    }
    readers_cv_.notify_one();
    return std::move(opened).error();
  }
  return Lease(*this, std::move(opened).value().release());
}

void PgStore::Return(SqlConnection* connection) {
  std::unique_ptr<PgConnection> owned(static_cast<PgConnection*>(connection));
  if (!owned->Broken() && owned->InTransaction()) (void)owned->Exec("ROLLBACK");
  {
    MutexLock lock(readers_mu_);
    if (owned->Broken()) {
      --open_readers_;  // dropped; the next Borrow opens a fresh one
    } else {
      free_readers_.push_back(std::move(owned));
    }
  }
  readers_cv_.notify_one();
}

Result<std::vector<OutboxRow>> PgStore::ListDueOutbox(TimePoint now, int limit) {
  // As SqliteStore's (rows of one destination and request go in order), plus the lease: rows
  // another replica holds are skipped, and those returned are this replica's until the lease
  // runs out or their attempt is recorded.
  static const std::string kClaim =
      std::string("UPDATE outbox SET lease_owner = ?1, lease_until = ?2 WHERE id IN (") +
      "SELECT id FROM outbox o WHERE state = 'pending' AND next_attempt_at <= ?3 " +
      "AND (lease_until <= ?3 OR lease_owner = ?1) AND NOT EXISTS (" +
      "SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.destination = o.destination " +
      "AND p.request_id = o.request_id AND p.id < o.id " +
      "AND (p.target = o.target OR p.target = '' OR o.target = '')) " +
      "ORDER BY id LIMIT ?4 FOR UPDATE SKIP LOCKED) RETURNING " + sql_rows::kOutboxColumns;
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  auto statement = (*lease)->Prepare(kClaim);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  const int64_t now_ms = ToUnixMillis(now);
  s.BindText(1, options_.replica_id)
      .BindInt64(2, now_ms + std::chrono::duration_cast<Millis>(options_.outbox_lease).count())
      .BindInt64(3, now_ms)
      .BindInt64(4, std::clamp(limit, 1, 1000));
  std::vector<OutboxRow> rows;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    rows.push_back(sql_rows::OutboxFromRow(s));
  }
  std::sort(rows.begin(), rows.end(),
            [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
  return rows;
}

Status PgStore::Ping() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  CS_RETURN_IF_ERROR((*lease)->Run("SELECT 1"));
  // The database answers again: the writer reconnects at its next batch, so an outage the
  // last batch met no longer makes the store unready.
  MutexLock lock(mu_);
  outage_.reset();
  return Ok();
}

Status PgStore::WriterHealth() const {
  MutexLock lock(mu_);
  if (outage_) return *outage_;
  return Ok();
}

StoreStats PgStore::Stats() const {
  MutexLock lock(mu_);
  StoreStats stats = stats_;
  stats.queue_depth = queue_.size();
  return stats;
}

}  // namespace countersign
