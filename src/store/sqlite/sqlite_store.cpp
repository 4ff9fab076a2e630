#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"
#include "store/migration_set.hpp"
#include "store/schema_migrations.hpp"
#include "store/sql/pending_write.hpp"
#include "store/sql/sql_conversations.hpp"
#include "store/sql/sql_rows.hpp"

namespace countersign {

namespace {

constexpr int kBusyTimeoutMs = 5000;

Error Prefixed(std::string_view prefix, Error error) {
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

// Applies `migration` in its own transaction unless another process got there first.
Status ApplyMigration(SqliteConnection& db, const Migration& migration) {
  if (auto begun = db.Exec("BEGIN IMMEDIATE"); !begun.ok()) return begun;
  auto applied = SchemaMigrations::AppliedVersions(db);
  Status status;
  if (!applied.ok()) {
    status = std::move(applied).error();
  } else if (!applied->contains(migration.version)) {
    status = MigrationSet::Apply(db, migration);
  }
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok()) {
    if (db.InTransaction()) (void)db.Exec("ROLLBACK");
    return Prefixed("migration " + migration.name + " failed", std::move(status).error());
  }
  spdlog::info("store: applied schema migration {}", migration.name);
  return Ok();
}

Status Migrate(SqliteConnection& db) {
  auto known = SchemaMigrations::Known(SqlDialect::kSqlite);
  if (!known.ok()) return std::move(known).error();
  auto applied = SchemaMigrations::AppliedVersions(db);
  if (!applied.ok()) return std::move(applied).error();
  const int64_t newest_known = known->newest();
  if (!applied->empty() && *applied->rbegin() > newest_known) {
    return Error::Internal("database schema version " + std::to_string(*applied->rbegin()) +
                           " is newer than this binary supports (" + std::to_string(newest_known) +
                           "); use a newer countersign");
  }
  for (const auto& migration : known->migrations()) {
    if (applied->contains(migration.version)) continue;
    if (auto status = ApplyMigration(db, migration); !status.ok()) return status;
  }
  return Ok();
}

Status ConfigureWriter(SqliteConnection& db) {
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  auto mode = db.Prepare("PRAGMA journal_mode = WAL");
  if (!mode.ok()) return std::move(mode).error();
  auto row = (*mode)->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || (*mode)->ColumnText(0) != "wal") {
    return Error::Unavailable("cannot switch the database to WAL mode (journal_mode is \"" +
                              std::string(*row ? (*mode)->ColumnText(0) : "") + "\")");
  }
  mode->reset();
  // synchronous=FULL: every COMMIT is fsync'd before a caller hears "done". A larger page
  // cache keeps the hot B-tree pages of the indexes in memory, and a longer checkpoint
  // interval spreads the cost of copying the WAL back into the database.
  return db.Exec(
      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; "
      "PRAGMA wal_autocheckpoint = 4000; PRAGMA temp_store = MEMORY;");
}

// What to do about a corrupt database, appended to the error that says so.
std::string CorruptionAdvice() {
  return ". Stop here: restore the file from a backup, or salvage it with `sqlite3 FILE "
         "\".recover\" | sqlite3 NEW` (docs/operations.md, \"A corrupt database\"); "
         "--integrity-check off starts without this check";
}

// PRAGMA quick_check: the structure of every page and index, without comparing index contents
// to their tables (O(N), seconds for millions of rows). A corrupt file must not start and
// then fail request by request.
Status QuickCheck(SqliteConnection& db, const std::string& path) {
  auto check = db.Prepare("PRAGMA quick_check(5)");
  if (!check.ok())
    return Prefixed("cannot check database \"" + path + "\"", std::move(check).error());
  std::string problems;
  for (;;) {
    auto row = (*check)->Step();
    if (!row.ok()) {
      return Error::Internal("database \"" + path + "\" is corrupt: " + row.error().message +
                             CorruptionAdvice());
    }
    if (!*row) break;
    const std::string line((*check)->ColumnText(0));
    if (line == "ok") return Ok();
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  return Error::Internal("database \"" + path + "\" is corrupt (PRAGMA quick_check: " + problems +
                         ")" + CorruptionAdvice());
}

Status ConfigureReader(SqliteConnection& db) {
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  return db.Exec(
      "PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; "
      "PRAGMA mmap_size = 268435456;");
}

// The database's last audit event, and the hash of event `seq` (empty when there is none).
struct ChainFacts {
  int64_t last_seq = 0;
  std::string last_hash = kGenesisHash;
  std::string hash_at_seq;
};

Result<ChainFacts> ReadChainFacts(SqliteConnection& db, int64_t seq) {
  ChainFacts facts;
  auto last = db.Prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
  if (!last.ok()) return std::move(last).error();
  auto row = (*last)->Step();
  if (!row.ok()) return std::move(row).error();
  if (*row) {
    facts.last_seq = (*last)->ColumnInt64(0);
    facts.last_hash = (*last)->ColumnText(1);
  }
  auto at = db.Prepare("SELECT hash FROM events WHERE seq = ?1");
  if (!at.ok()) return std::move(at).error();
  (*at)->BindInt64(1, seq);
  row = (*at)->Step();
  if (!row.ok()) return std::move(row).error();
  if (*row) facts.hash_at_seq = (*at)->ColumnText(0);
  return facts;
}

// Opens the head file and holds the database against it (see SqliteStoreOptions::head_file).
Result<std::unique_ptr<AuditHeadFile>> OpenHeadFile(SqliteConnection& db,
                                                    const SqliteStoreOptions& options) {
  auto file = AuditHeadFile::Open(options.head_file);
  if (!file.ok()) return std::move(file).error();
  const auto& recorded = (*file)->recorded();
  if ((*file)->torn()) {
    spdlog::warn(
        "audit head file {} holds no whole record (torn by a crash?); the next commit "
        "rewrites it",
        options.head_file);
  }
  if (!recorded) return file;
  auto facts = ReadChainFacts(db, recorded->seq);
  if (!facts.ok()) {
    // A damaged database started with --integrity-check off: its reads fail on their own.
    spdlog::warn("cannot compare the database with audit head file {}: {}", options.head_file,
                 facts.error().message);
    return file;
  }
  const std::string recorded_text =
      "event " + std::to_string(recorded->seq) + " was committed (" + options.head_file + ")";
  std::string problem;
  if (facts->last_seq < recorded->seq) {
    problem = "the audit log ends at event " + std::to_string(facts->last_seq) + " but " +
              recorded_text + ": " + std::to_string(recorded->seq - facts->last_seq) +
              " acknowledged events are missing, and with them the writes they recorded. The "
              "database lost writes it had confirmed (a damaged or deleted -wal file, or an "
              "older copy put in its place)";
  } else if (facts->hash_at_seq != recorded->hash) {
    problem = "the database's event " + std::to_string(recorded->seq) +
              " is not the one that was committed (its hash differs from " + options.head_file +
              "): the log was rewritten, or this is another database";
  }
  if (problem.empty()) return file;
  if (!options.accept_audit_gap) {
    return Error::Internal(problem +
                           ". Restore the newest backup (docs/operations.md, \"Lost "
                           "writes\"); to go on with what is left, start once with "
                           "--accept-audit-gap on");
  }
  spdlog::error("{}; going on as --accept-audit-gap asks, from event {}", problem, facts->last_seq);
  CS_RETURN_IF_ERROR((*file)->Record(facts->last_seq, facts->last_hash));
  return file;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  if (options.path.empty()) return Error::Invalid("store path is empty");
  if (options.read_connections < 1 || options.max_queue < 1 || options.max_batch < 1) {
    return Error::Invalid("store read_connections, max_queue and max_batch must be positive");
  }
  const std::string context = "cannot open database \"" + options.path + "\"";
  auto writer = SqliteConnection::Open(
      options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, options.vfs);
  if (!writer.ok()) return std::move(writer).error();
  if (auto status = ConfigureWriter(**writer); !status.ok()) {
    return Prefixed(context, std::move(status).error());
  }
  if (options.check_integrity) {
    // On a connection of its own, closed once done, reading the file through a memory map: the
    // check reads every page once, and through the writer it left the writer's 64 MiB page
    // cache full for good and copied each page into it (at 1,000,000 requests 2.7 s of CPU
    // and 67 bytes of RSS per request; mapped, 1.1 s and nothing after).
    auto checker = SqliteConnection::Open(options.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                          options.vfs);
    if (!checker.ok()) return Prefixed(context, std::move(checker).error());
    if (auto status = (*checker)->Exec("PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -2048;");
        !status.ok()) {
      return Prefixed(context, std::move(status).error());
    }
    if (auto status = QuickCheck(**checker, options.path); !status.ok()) {
      return std::move(status).error();
    }
  }
  if (auto status = Migrate(**writer); !status.ok()) {
    return Prefixed(context, std::move(status).error());
  }
  std::unique_ptr<AuditHeadFile> head_file;
  if (!options.head_file.empty()) {
    auto opened = OpenHeadFile(**writer, options);
    if (!opened.ok()) return std::move(opened).error();
    head_file = std::move(opened).value();
  }
  std::vector<std::unique_ptr<SqliteConnection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    auto reader = SqliteConnection::Open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                         options.vfs);
    if (!reader.ok()) return std::move(reader).error();
    if (auto status = ConfigureReader(**reader); !status.ok()) {
      return Prefixed(context, std::move(status).error());
    }
    readers.push_back(std::move(reader).value());
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(writer).value(),
                                                     std::move(readers), std::move(head_file)));
  try {
    store->writer_thread_ = std::thread(&SqliteStore::WriterLoop, store.get());
  } catch (const std::system_error& e) {
    return Error::Unavailable(std::string("cannot start the store writer thread: ") + e.what());
  }
  store->writer_id_ = store->writer_thread_.get_id();
  return store;
}

SqliteStore::SqliteStore(const SqliteStoreOptions& options,
                         std::unique_ptr<SqliteConnection> writer,
                         std::vector<std::unique_ptr<SqliteConnection>> readers,
                         std::unique_ptr<AuditHeadFile> head_file)
    : options_(options),
      writer_(std::move(writer)),
      head_file_(std::move(head_file)),
      queue_(options.max_queue),
      free_readers_(std::move(readers)) {}

SqliteStore::~SqliteStore() { Stop(); }

void SqliteStore::Stop() {
  // From a `done` callback (the writer thread itself) only ask; the owner's Stop() joins.
  const bool on_writer = std::this_thread::get_id() == writer_id_;
  std::unique_lock stop_lock(stop_mu_, std::defer_lock);
  if (!on_writer) stop_lock.lock();
  queue_.Close();
  if (!on_writer && writer_thread_.joinable()) writer_thread_.join();
}

void SqliteStore::AddCommitListener(CommitListener listener) {
  MutexLock lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void SqliteStore::Write(WriteFn fn, WriteDone done) {
  queue_.Push({std::move(fn), std::move(done)}, WriterFailure());
}

void SqliteStore::WriterLoop() {
  std::vector<PendingWrite> batch;
  while (queue_.TakeBatch(batch, options_.max_batch)) CommitBatch(batch);
}

void SqliteStore::CommitBatch(std::vector<PendingWrite>& batch) {
  std::vector<Status> results(batch.size());
  if (std::optional<Error> failed = WriterFailure()) {
    for (auto& result : results) result = *failed;
    CompletePendingWrites(batch, results);
    return;
  }
  std::vector<Event> events;  // appended by the operations that succeeded, in seq order
  // Set when the batch as a whole cannot commit; then every operation fails with it.
  std::optional<Error> batch_error;

  if (auto begun = writer_->Run("BEGIN IMMEDIATE"); !begun.ok()) {
    batch_error = Error::Unavailable("cannot start a write transaction: " + begun.error().message);
  }
  for (size_t i = 0; i < batch.size() && !batch_error; ++i) {
    // Some SQLite errors (full disk, I/O) roll the whole transaction back on their own; going
    // on would run the remaining operations in autocommit mode.
    if (!writer_->InTransaction()) {
      batch_error = Error::Unavailable("SQLite rolled back the write transaction");
      break;
    }
    if (auto saved = writer_->Run("SAVEPOINT op"); !saved.ok()) {
      batch_error = Error::Unavailable("cannot create a savepoint: " + saved.error().message);
      break;
    }
    const size_t events_before = events.size();
    Status status = RunPendingWrite(*writer_, batch[i], events);
    if (status.ok()) status = writer_->Run("RELEASE op");
    if (!status.ok()) {
      events.resize(events_before);
      Status undone = writer_->Run("ROLLBACK TO op");
      if (undone.ok()) undone = writer_->Run("RELEASE op");
      if (!undone.ok()) {
        batch_error = Error::Unavailable("cannot roll back a failed operation (" +
                                         status.error().message + "): " + undone.error().message);
        break;
      }
      results[i] = std::move(status);
    }
  }
  bool committed = false;
  if (!batch_error) {
    const auto started = std::chrono::steady_clock::now();
    Status commit = writer_->Run("COMMIT");
    const std::chrono::duration<double, std::milli> took =
        std::chrono::steady_clock::now() - started;
    if (commit.ok()) {
      committed = true;
      RecordCommit(batch.size(), took.count());
      MutexLock lock(mu_);
      disk_full_ = false;
    } else {
      batch_error = Error::Unavailable("cannot commit: " + commit.error().message);
    }
  }
  if (batch_error && writer_->InTransaction()) (void)writer_->Run("ROLLBACK");
  // A storage fault anywhere in the batch (even one an operation handled itself) stops the
  // writer. A batch whose COMMIT succeeded anyway keeps its results: it is durable.
  if (const int fault = writer_->TakeStorageFault(); fault != SQLITE_OK) {
    Error stopped = StopWritesAfterFault(
        fault, batch_error ? batch_error->message : "an operation met the error");
    if (!committed) batch_error = std::move(stopped);
  } else if (batch_error) {
    spdlog::error("store: a batch of {} writes failed: {}", batch.size(), batch_error->message);
    if (batch_error->message.find(sqlite3_errstr(SQLITE_FULL)) != std::string::npos) {
      MutexLock lock(mu_);
      disk_full_ = true;
    }
  }
  if (batch_error) {
    for (auto& result : results) result = *batch_error;
    events.clear();
  }
  // Before anyone hears of the commit: what was acknowledged is recorded.
  if (!events.empty() && head_file_) {
    if (Status recorded = head_file_->Record(events.back().seq, events.back().hash);
        !recorded.ok()) {
      if (auto left_out = head_file_errors_.Allow()) {
        spdlog::error("store: {} ({} more left out); a lost write would go unnoticed at start",
                      recorded.error().message, *left_out);
      }
    }
  }
  if (!events.empty()) {
    MutexLock lock(listeners_mu_);
    TellCommitListeners(listeners_, events);
  }
  CompletePendingWrites(batch, results);
}

namespace {

// The SQLite name of a storage fault, for the log and the error every write then gets.
std::string FaultName(int rc) {
  switch (rc) {
    case SQLITE_IOERR_FSYNC:
      return "SQLITE_IOERR_FSYNC (fsync failed)";
    case SQLITE_IOERR_DIR_FSYNC:
      return "SQLITE_IOERR_DIR_FSYNC (fsync of the directory failed)";
    case SQLITE_IOERR_WRITE:
      return "SQLITE_IOERR_WRITE (a write failed)";
    case SQLITE_IOERR_READ:
      return "SQLITE_IOERR_READ (a read failed)";
    case SQLITE_IOERR_SHORT_READ:
      return "SQLITE_IOERR_SHORT_READ (a read came back short)";
    case SQLITE_IOERR_TRUNCATE:
      return "SQLITE_IOERR_TRUNCATE (a truncate failed)";
    default:
      break;
  }
  return std::string((rc & 0xff) == SQLITE_CORRUPT ? "SQLITE_CORRUPT" : "SQLITE_IOERR") +
         " (extended code " + std::to_string(rc) + ": " + sqlite3_errstr(rc) + ")";
}

}  // namespace

// Below this much free space after a write failed for a full disk, the store is not ready.
constexpr std::uintmax_t kMinFreeBytes = 1 << 20;

Error SqliteStore::StopWritesAfterFault(int rc, std::string_view what) {
  const std::string cause =
      std::string((rc & 0xff) == SQLITE_CORRUPT ? "finding the database corrupt" : "an I/O error") +
      " (" + FaultName(rc) + ": " + std::string(what) + ")";
  const bool corrupt = (rc & 0xff) == SQLITE_CORRUPT;
  // An I/O error may pass with a restart (503: try again later); a corrupt file does not (500).
  Error error =
      corrupt
          ? Error::Internal("the store stopped taking writes after " + cause + CorruptionAdvice())
          : Error::Unavailable("the store stopped taking writes after " + cause +
                               " and must be restarted");
  {
    MutexLock lock(mu_);
    if (failed_) return *failed_;
    failed_ = error;
  }
  if (corrupt) {
    spdlog::error(
        "store: stopped taking writes after {}. Every write now fails with 500 and "
        "/readyz reports it. Stop countersign and restore the database from a backup, "
        "or salvage it (docs/operations.md, \"A corrupt database\").",
        cause);
    return error;
  }
  // Once: from now on every write fails with `error` without touching SQLite again.
  spdlog::error(
      "store: stopped taking writes after {}. Every write now fails with 503 and /readyz "
      "reports it; reads go on. Restart countersign after checking the disk (dmesg, free space, "
      "the filesystem); the WAL is recovered on open. Writes answered 503 may or may not be "
      "there after the restart; every write answered with success is.",
      cause);
  return error;
}

std::optional<Error> SqliteStore::WriterFailure() const {
  MutexLock lock(mu_);
  return failed_;
}

Status SqliteStore::WriterHealth() const {
  if (std::optional<Error> failed = WriterFailure()) return *failed;
  bool full = false;
  {
    MutexLock lock(mu_);
    full = disk_full_;
  }
  // Writes failed for want of space: not ready while the disk is still (next to) full, ready
  // again as soon as there is room, even before the next write proves it.
  if (full) {
    const std::filesystem::path dir = std::filesystem::absolute(options_.path).parent_path();
    std::error_code ec;
    const auto space = std::filesystem::space(dir, ec);
    if (ec || space.available < kMinFreeBytes) {
      return Error::Unavailable(
          "the disk holding the database is full: writes fail until "
          "there is space");
    }
  }
  return Ok();
}

void SqliteStore::RecordCommit(size_t operations, double commit_ms) {
  MutexLock lock(mu_);
  stats_.RecordCommit(operations, commit_ms);
}

StoreStats SqliteStore::Stats() const {
  MutexLock lock(mu_);
  StoreStats stats = stats_;
  stats.queue_depth = queue_.size();
  return stats;
}

Result<SqlStore::Lease> SqliteStore::Borrow() {
  MutexLock lock(readers_mu_);
  while (free_readers_.empty()) lock.Wait(readers_cv_);
  std::unique_ptr<SqliteConnection> connection = std::move(free_readers_.back());
  free_readers_.pop_back();
  return Lease(*this, connection.release());
}

void SqliteStore::Return(SqlConnection* connection) {
  {
    MutexLock lock(readers_mu_);
    free_readers_.emplace_back(static_cast<SqliteConnection*>(connection));
  }
  readers_cv_.notify_one();
}

}  // namespace countersign
