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

#include "core/embedded_file.hpp"
#include "core/mutex_lock.hpp"
#include "store/sqlite/sqlite_conversations.hpp"
#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_transaction.hpp"

namespace countersign {

// Generated from src/store/migrations/*.sql by countersign_embed (CMakeLists.txt).
extern const EmbeddedFile kMigrationFiles[];

namespace {

constexpr int kBusyTimeoutMs = 5000;

Error Prefixed(std::string_view prefix, Error error) {
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

struct Migration {
  int64_t version;
  std::string name;
  const char* sql;
};

// The embedded migrations in version order; the version is the file name's leading number.
Result<std::vector<Migration>> KnownMigrations() {
  std::vector<Migration> migrations;
  for (const EmbeddedFile* file = kMigrationFiles; file->name != nullptr; ++file) {
    std::string_view name(file->name);
    size_t digits = 0;
    while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9 || digits == name.size() || name[digits] != '_') {
      return Error::Internal("migration file \"" + std::string(name) +
                             "\" is not named NNN_description.sql");
    }
    migrations.push_back(
        {std::stoll(std::string(name.substr(0, digits))), std::string(name), file->content});
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return Error::Internal("migrations \"" + migrations[i - 1].name + "\" and \"" +
                             migrations[i].name + "\" have the same version");
    }
  }
  return migrations;
}

Result<std::set<int64_t>> AppliedVersions(SqliteConnection& db) {
  std::set<int64_t> applied;
  {
    auto exists = db.Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
        "'schema_migrations'");
    if (!exists.ok()) return std::move(exists).error();
    auto row = (*exists)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row || (*exists)->ColumnInt64(0) == 0) return applied;
  }
  auto versions = db.Prepare("SELECT version FROM schema_migrations");
  if (!versions.ok()) return std::move(versions).error();
  for (;;) {
    auto row = (*versions)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return applied;
    applied.insert((*versions)->ColumnInt64(0));
  }
}

// Applies `migration` in its own transaction unless another process got there first.
Status ApplyMigration(SqliteConnection& db, const Migration& migration) {
  if (auto begun = db.Exec("BEGIN IMMEDIATE"); !begun.ok()) return begun;
  auto applied = AppliedVersions(db);
  Status status;
  if (!applied.ok()) {
    status = std::move(applied).error();
  } else if (!applied->contains(migration.version)) {
    status = db.Exec(migration.sql);
    if (status.ok()) {
      auto record = db.Prepare(
          "INSERT INTO schema_migrations (version, name, applied_at) "
          "VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER) * 1000)");
      if (!record.ok()) {
        status = std::move(record).error();
      } else {
        (*record)->BindInt64(1, migration.version).BindText(2, migration.name);
        status = (*record)->Run();
      }
    }
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
  auto known = KnownMigrations();
  if (!known.ok()) return std::move(known).error();
  auto applied = AppliedVersions(db);
  if (!applied.ok()) return std::move(applied).error();
  const int64_t newest_known = known->empty() ? 0 : known->back().version;
  if (!applied->empty() && *applied->rbegin() > newest_known) {
    return Error::Internal("database schema version " + std::to_string(*applied->rbegin()) +
                           " is newer than this binary supports (" + std::to_string(newest_known) +
                           "); use a newer countersign");
  }
  for (const auto& migration : *known) {
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

// Runs `read` inside one read transaction, so its queries see a single snapshot.
template <typename Fn>
auto InSnapshot(SqliteConnection& db, Fn&& read) -> decltype(read()) {
  if (auto begun = db.Run("BEGIN"); !begun.ok()) return std::move(begun).error();
  auto result = read();
  if (result.ok()) {
    if (auto ended = db.Run("COMMIT"); !ended.ok()) {
      (void)db.Run("ROLLBACK");
      return std::move(ended).error();
    }
  } else {
    (void)db.Run("ROLLBACK");
  }
  return result;
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
    if (auto status = QuickCheck(**writer, options.path); !status.ok()) {
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
      free_readers_(std::move(readers)) {}

SqliteStore::~SqliteStore() { Stop(); }

void SqliteStore::Stop() {
  // From a `done` callback (the writer thread itself) only ask; the owner's Stop() joins.
  const bool on_writer = std::this_thread::get_id() == writer_id_;
  std::unique_lock stop_lock(stop_mu_, std::defer_lock);
  if (!on_writer) stop_lock.lock();
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (!on_writer && writer_thread_.joinable()) writer_thread_.join();
}

void SqliteStore::AddCommitListener(CommitListener listener) {
  MutexLock lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void SqliteStore::Write(WriteFn fn, WriteDone done) {
  std::optional<Error> refused;
  {
    MutexLock lock(mu_);
    if (failed_) {
      refused = *failed_;
    } else if (stopping_) {
      refused = Error::Unavailable("store is shutting down");
    } else if (queue_.size() >= options_.max_queue) {
      refused = Error::Unavailable("store write queue is full");
    } else {
      queue_.push_back({std::move(fn), std::move(done)});
    }
  }
  if (refused) {
    if (done) done(std::move(*refused));
    return;
  }
  work_cv_.notify_one();
}

void SqliteStore::WriterLoop() {
  std::vector<PendingWrite> batch;
  for (;;) {
    batch.clear();
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) lock.Wait(work_cv_);
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

Status SqliteStore::RunOperation(PendingWrite& op, std::vector<Event>& events) {
  SqliteTransaction transaction(*writer_);
  try {
    Status status = op.fn(transaction);
    if (status.ok()) {
      std::vector<Event> appended = transaction.TakeAppendedEvents();
      events.insert(events.end(), std::make_move_iterator(appended.begin()),
                    std::make_move_iterator(appended.end()));
    }
    return status;
  } catch (const std::exception& e) {
    return Error::Internal(std::string("store operation threw: ") + e.what());
  } catch (...) {
    return Error::Internal("store operation threw a non-standard exception");
  }
}

void SqliteStore::CommitBatch(std::vector<PendingWrite>& batch) {
  std::vector<Status> results(batch.size());
  if (std::optional<Error> failed = WriterFailure()) {
    for (auto& result : results) result = *failed;
    Complete(batch, results);
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
    Status status = RunOperation(batch[i], events);
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
    for (const auto& listener : listeners_) {
      try {
        listener(events);
      } catch (const std::exception& e) {
        spdlog::error("store: a commit listener threw: {}", e.what());
      }
    }
  }
  Complete(batch, results);
}

void SqliteStore::Complete(std::vector<PendingWrite>& batch, std::vector<Status>& results) {
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].done) continue;
    try {
      batch[i].done(std::move(results[i]));
    } catch (const std::exception& e) {
      spdlog::error("store: a write completion threw: {}", e.what());
    } catch (...) {
      spdlog::error("store: a write completion threw a non-standard exception");
    }
  }
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

SqliteStore::Reader::Reader(SqliteStore& store, std::unique_ptr<SqliteConnection> connection)
    : store_(store), connection_(std::move(connection)) {}

SqliteStore::Reader::~Reader() {
  {
    MutexLock lock(store_.readers_mu_);
    store_.free_readers_.push_back(std::move(connection_));
  }
  store_.readers_cv_.notify_one();
}

SqliteStore::Reader SqliteStore::AcquireReader() {
  MutexLock lock(readers_mu_);
  while (free_readers_.empty()) lock.Wait(readers_cv_);
  std::unique_ptr<SqliteConnection> connection = std::move(free_readers_.back());
  free_readers_.pop_back();
  return Reader(*this, std::move(connection));
}

Result<std::optional<Request>> SqliteStore::GetRequest(std::string_view tenant,
                                                       std::string_view id) {
  Reader reader = AcquireReader();
  return InSnapshot(*reader, [&] { return sqlite_rows::LoadRequest(*reader, tenant, id); });
}

Result<RequestPage> SqliteStore::ListRequests(const RequestFilter& filter) {
  if (filter.tenant.empty()) return Error::Invalid("listing requests needs a tenant");
  const int limit = std::clamp(filter.limit, 1, 500);
  // At most 128 distinct texts, each prepared once per connection.
  std::string sql =
      std::string("SELECT ") + sqlite_rows::kRequestColumns + " FROM requests WHERE tenant = ?1";
  if (filter.status) sql += " AND status = ?2";
  if (!filter.action.empty()) sql += " AND action = ?3";
  if (!filter.requester.empty()) sql += " AND requester = ?4";
  if (!filter.session.empty()) sql += " AND session = ?5";
  if (!filter.cursor.empty()) sql += " AND id < ?6";
  if (filter.created_from) sql += " AND created_at >= ?8";
  if (filter.created_before) sql += " AND created_at < ?9";
  sql += " ORDER BY id DESC LIMIT ?7";

  Reader reader = AcquireReader();
  return InSnapshot(*reader, [&]() -> Result<RequestPage> {
    RequestPage page;
    {
      auto statement = reader->Prepare(sql);
      if (!statement.ok()) return std::move(statement).error();
      auto& s = **statement;
      s.BindText(1, filter.tenant);
      if (filter.status) s.BindText(2, StatusName(*filter.status));
      if (!filter.action.empty()) s.BindText(3, filter.action);
      if (!filter.requester.empty()) s.BindText(4, filter.requester);
      if (!filter.session.empty()) s.BindText(5, filter.session);
      if (!filter.cursor.empty()) s.BindText(6, filter.cursor);
      if (filter.created_from) s.BindInt64(8, ToUnixMillis(*filter.created_from));
      if (filter.created_before) s.BindInt64(9, ToUnixMillis(*filter.created_before));
      s.BindInt64(7, limit + 1);
      for (;;) {
        auto row = s.Step();
        if (!row.ok()) return std::move(row).error();
        if (!*row) break;
        if (static_cast<int>(page.requests.size()) == limit) {
          page.next_cursor = page.requests.back().id;
          break;
        }
        auto request = sqlite_rows::RequestFromRow(s);
        if (!request.ok()) return std::move(request).error();
        page.requests.push_back(std::move(request).value());
      }
    }
    if (auto loaded = sqlite_rows::LoadDecisions(*reader, page.requests); !loaded.ok()) {
      return std::move(loaded).error();
    }
    return page;
  });
}

Result<std::vector<Event>> SqliteStore::ListEvents(const EventFilter& filter) {
  const int limit = std::clamp(filter.limit, 1, 1000);
  std::string sql =
      std::string("SELECT ") + sqlite_rows::kEventColumns + " FROM events WHERE seq > ?1";
  if (!filter.tenant.empty()) sql += " AND tenant = ?2";
  if (!filter.request_id.empty()) sql += " AND request_id = ?3";
  if (filter.before > 0) sql += " AND seq < ?5";
  // A prefix by range, so "decision." cannot match by LIKE's wildcards.
  if (!filter.type_prefix.empty()) sql += " AND type >= ?6 AND type < ?6 || char(1114111)";
  if (!filter.actor.empty()) sql += " AND actor = ?7";
  if (filter.from) sql += " AND at >= ?8";
  if (filter.until) sql += " AND at < ?9";
  sql += filter.newest_first ? " ORDER BY seq DESC LIMIT ?4" : " ORDER BY seq LIMIT ?4";

  Reader reader = AcquireReader();
  auto statement = reader->Prepare(sql);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, std::max<int64_t>(filter.since, 0));
  if (!filter.tenant.empty()) s.BindText(2, filter.tenant);
  if (!filter.request_id.empty()) s.BindText(3, filter.request_id);
  s.BindInt64(4, limit);
  if (filter.before > 0) s.BindInt64(5, filter.before);
  if (!filter.type_prefix.empty()) s.BindText(6, filter.type_prefix);
  if (!filter.actor.empty()) s.BindText(7, filter.actor);
  if (filter.from) s.BindInt64(8, ToUnixMillis(*filter.from));
  if (filter.until) s.BindInt64(9, ToUnixMillis(*filter.until));
  std::vector<Event> events;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return events;
    auto event = sqlite_rows::EventFromRow(s);
    if (!event.ok()) return std::move(event).error();
    events.push_back(std::move(event).value());
  }
}

namespace {

// Whether the event row `s` (kEventColumns) hashes to its own hash column given its
// prev_hash: "" when it does, else what is wrong. AppendEvent stores the data as the canonical
// JSON it hashed, so hashing the stored text proves the row unchanged without parsing it (about
// twice as fast); only a row that fails that is parsed, to tell malformed data from an edit.
std::string CheckEventHash(const SqliteStatement& s) {
  const Event event = sqlite_rows::EventWithoutDataFromRow(s);
  if (ChainHash(event, s.ColumnText(6)) == event.hash) return "";
  auto parsed = sqlite_rows::EventFromRow(s);
  if (!parsed.ok()) return "malformed event: " + parsed.error().message;
  // Stored in another spelling of the same JSON (not by AppendEvent): the hash decides.
  if (ChainHash(*parsed) == parsed->hash) return "";
  return "hash mismatch";
}

}  // namespace

Result<AuditReport> SqliteStore::VerifyAudit(const AuditCheckpoint& from, int64_t max_events) {
  if (max_events < 1) return Error::Invalid("an audit verification must check at least 1 event");
  if (from.seq < 0 || (from.seq == 0) != from.hash.empty()) {
    return Error::Invalid("audit checkpoint at seq " + std::to_string(from.seq) +
                          " must have a hash exactly when seq > 0");
  }
  static const std::string kSelectOne =
      std::string("SELECT ") + sqlite_rows::kEventColumns + " FROM events WHERE seq = ?1";
  static const std::string kSelectAfter = std::string("SELECT ") + sqlite_rows::kEventColumns +
                                          " FROM events WHERE seq > ?1 ORDER BY seq";
  Reader reader = AcquireReader();
  return InSnapshot(*reader, [&]() -> Result<AuditReport> {
    AuditReport report;
    report.checkpoint.seq = from.seq;
    report.checkpoint.hash = from.hash;
    const auto fail = [&](int64_t seq, std::string reason) {
      report.ok = false;
      report.first_bad_seq = seq;
      report.reason = std::move(reason);
      report.reached_end = false;
      return report;
    };
    // The checkpoint is a claim about the log, checked before anything is built on it.
    if (from.seq > 0) {
      auto statement = reader->Prepare(kSelectOne);
      if (!statement.ok()) return std::move(statement).error();
      auto& s = **statement;
      s.BindInt64(1, from.seq);
      auto row = s.Step();
      if (!row.ok()) return std::move(row).error();
      report.checkpoint = AuditCheckpoint{};  // nothing here can be resumed from if it fails
      const std::string seq_text = "seq " + std::to_string(from.seq);
      if (!*row) return fail(from.seq, "the checkpoint's event " + seq_text + " is not in the log");
      if (s.ColumnText(8) != from.hash) {
        return fail(from.seq,
                    "the checkpoint's hash does not match the stored hash of " + seq_text);
      }
      if (std::string wrong = CheckEventHash(s); !wrong.empty()) {
        return fail(from.seq, wrong + " at the checkpoint's event");
      }
      report.checkpoint.seq = from.seq;
      report.checkpoint.hash = from.hash;
    }
    auto statement = reader->Prepare(kSelectAfter);
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindInt64(1, from.seq);
    int64_t expected_seq = from.seq + 1;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) {
        report.reached_end = true;
        return report;
      }
      // One row past the limit only tells whether the chain goes on.
      if (report.events_checked == max_events) return report;
      report.events_checked += 1;
      const int64_t seq = s.ColumnInt64(0);
      if (seq > expected_seq) {
        return fail(expected_seq, "sequence gap: seq " + std::to_string(expected_seq) +
                                      " is missing (next is " + std::to_string(seq) + ")");
      }
      if (seq < expected_seq) {
        return fail(seq, "unexpected seq " + std::to_string(seq) + " (expected " +
                             std::to_string(expected_seq) + ")");
      }
      const std::string_view expected_prev =
          seq == 1 ? std::string_view(kGenesisHash) : std::string_view(report.checkpoint.hash);
      if (s.ColumnText(7) != expected_prev) {
        return fail(seq, seq == 1 ? std::string("prev_hash of seq 1 is not the genesis hash")
                                  : "prev_hash does not match seq " + std::to_string(seq - 1));
      }
      if (std::string wrong = CheckEventHash(s); !wrong.empty()) return fail(seq, wrong);
      if (s.ColumnText(4) == kAuditCheckpointEvent) {
        auto event = sqlite_rows::EventFromRow(s);
        if (!event.ok()) return fail(seq, "malformed event: " + event.error().message);
        report.signed_checkpoints.push_back(std::move(event).value());
      }
      report.checkpoint.seq = seq;
      report.checkpoint.hash = s.ColumnText(8);
      expected_seq += 1;
    }
  });
}

Result<AuditCheckpoint> SqliteStore::GetAuditCheckpoint() {
  Reader reader = AcquireReader();
  auto statement =
      reader->Prepare("SELECT seq, hash, verified_at FROM audit_checkpoint WHERE id = 1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  AuditCheckpoint checkpoint;
  if (!*row) return checkpoint;
  checkpoint.seq = s.ColumnInt64(0);
  checkpoint.hash = s.ColumnText(1);
  checkpoint.verified_at = FromUnixMillis(s.ColumnInt64(2));
  return checkpoint;
}

Result<AuditHead> SqliteStore::GetAuditHead() {
  Reader reader = AcquireReader();
  return InSnapshot(*reader, [&]() -> Result<AuditHead> {
    AuditHead head;
    auto last = reader->Prepare("SELECT seq, hash, type FROM events ORDER BY seq DESC LIMIT 1");
    if (!last.ok()) return std::move(last).error();
    auto row = (*last)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return head;
    head.seq = (*last)->ColumnInt64(0);
    head.hash = (*last)->ColumnText(1);
    head.type = (*last)->ColumnText(2);
    auto signed_point =
        reader->Prepare("SELECT seq FROM events WHERE type = ?1 ORDER BY seq DESC LIMIT 1");
    if (!signed_point.ok()) return std::move(signed_point).error();
    (*signed_point)->BindText(1, kAuditCheckpointEvent);
    row = (*signed_point)->Step();
    if (!row.ok()) return std::move(row).error();
    if (*row) head.last_checkpoint_seq = (*signed_point)->ColumnInt64(0);
    return head;
  });
}

Result<std::vector<PendingDeadline>> SqliteStore::ListPendingDeadlines() {
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(
      "SELECT tenant, id, deadline_at, remind_every_ms FROM requests WHERE status = 'pending' "
      "ORDER BY deadline_at, id");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  std::vector<PendingDeadline> deadlines;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return deadlines;
    deadlines.push_back({std::string(s.ColumnText(0)), std::string(s.ColumnText(1)),
                         FromUnixMillis(s.ColumnInt64(2)),
                         std::chrono::seconds(s.ColumnInt64(3) / 1000)});
  }
}

Result<std::optional<Principal>> SqliteStore::FindPrincipalByTokenHash(std::string_view sha256) {
  static const std::string kSelect = std::string("SELECT ") + sqlite_rows::kPrincipalColumns +
                                     " FROM principals WHERE token_sha256 = ?1";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, sha256);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<Principal>();
  auto principal = sqlite_rows::PrincipalFromRow(s);
  if (!principal.ok()) return std::move(principal).error();
  return std::optional<Principal>(std::move(principal).value());
}

Result<std::vector<Principal>> SqliteStore::ListPrincipals(std::string_view tenant) {
  static const std::string kSelectAll = std::string("SELECT ") + sqlite_rows::kPrincipalColumns +
                                        " FROM principals ORDER BY tenant, created_at, id";
  static const std::string kSelectTenant = std::string("SELECT ") + sqlite_rows::kPrincipalColumns +
                                           " FROM principals WHERE tenant = ?1 "
                                           "ORDER BY created_at, id";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(tenant.empty() ? kSelectAll : kSelectTenant);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  if (!tenant.empty()) s.BindText(1, tenant);
  std::vector<Principal> principals;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return principals;
    auto principal = sqlite_rows::PrincipalFromRow(s);
    if (!principal.ok()) return std::move(principal).error();
    principals.push_back(std::move(principal).value());
  }
}

Result<std::map<std::string, int64_t>> SqliteStore::CountRequestsByStatus() {
  Reader reader = AcquireReader();
  auto statement = reader->Prepare("SELECT status, count(*) FROM requests GROUP BY status");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  std::map<std::string, int64_t> counts;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return counts;
    counts.emplace(s.ColumnText(0), s.ColumnInt64(1));
  }
}

Result<std::optional<Grant>> SqliteStore::FindActiveGrant(std::string_view tenant,
                                                          std::string_view action,
                                                          std::string_view session, TimePoint now) {
  static const std::string kSelect =
      std::string("SELECT ") + sqlite_rows::kGrantColumns +
      " FROM grants WHERE tenant = ?1 AND action = ?2 AND expires_at > ?3 AND revoked_at IS NULL "
      "AND (scope = 'tenant' OR (scope = 'session' AND session = ?4 AND session != '')) "
      "ORDER BY created_at DESC LIMIT 1";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, action).BindInt64(3, ToUnixMillis(now)).BindText(4, session);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<Grant>();
  auto grant = sqlite_rows::GrantFromRow(s);
  if (!grant.ok()) return std::move(grant).error();
  return std::optional<Grant>(std::move(grant).value());
}

Result<std::vector<Grant>> SqliteStore::ListGrants(std::string_view tenant) {
  static const std::string kSelect = std::string("SELECT ") + sqlite_rows::kGrantColumns +
                                     " FROM grants WHERE tenant = ?1 ORDER BY created_at DESC, "
                                     "id DESC LIMIT 1000";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant);
  std::vector<Grant> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return out;
    auto grant = sqlite_rows::GrantFromRow(s);
    if (!grant.ok()) return std::move(grant).error();
    out.push_back(std::move(grant).value());
  }
}

namespace {

using sqlite_rows::kOutboxColumns;
using sqlite_rows::OutboxFromRow;

Result<std::vector<OutboxRow>> CollectOutbox(SqliteStatement& s) {
  std::vector<OutboxRow> rows;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return rows;
    rows.push_back(OutboxFromRow(s));
  }
}

}  // namespace

Result<std::optional<TimePoint>> SqliteStore::LatestGrantExpiry() {
  static constexpr char kSelect[] = "SELECT MAX(expires_at) FROM grants WHERE revoked_at IS NULL";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || s.ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<std::vector<OutboxRow>> SqliteStore::ListDueOutbox(TimePoint now, int limit) {
  // A row waits while an older pending row of its destination and request exists: a Slack
  // update must not overtake the post it edits, nor a Telegram edit the answer to the press.
  // Rows with two different targets (two mail recipients) do not wait for each other.
  static const std::string kSelect =
      std::string("SELECT ") + kOutboxColumns +
      " FROM outbox o WHERE state = 'pending' AND next_attempt_at <= ?1 AND NOT EXISTS ("
      "SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.destination = o.destination "
      "AND p.request_id = o.request_id AND p.id < o.id "
      "AND (p.target = o.target OR p.target = '' OR o.target = '')) "
      "ORDER BY id LIMIT ?2";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(now)).BindInt64(2, std::clamp(limit, 1, 1000));
  return CollectOutbox(s);
}

Result<std::optional<TimePoint>> SqliteStore::NextOutboxDue() {
  static constexpr char kSelect[] =
      "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || s.ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<std::vector<OutboxRow>> SqliteStore::ListOutbox(std::string_view tenant,
                                                       std::string_view state,
                                                       std::string_view request_id, int limit) {
  std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE 1 = 1";
  if (!tenant.empty()) sql += " AND tenant = ?1";
  if (!state.empty()) sql += " AND state = ?2";
  if (!request_id.empty()) sql += " AND request_id = ?3";
  sql += " ORDER BY id DESC LIMIT ?4";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(sql);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  if (!tenant.empty()) s.BindText(1, tenant);
  if (!state.empty()) s.BindText(2, state);
  if (!request_id.empty()) s.BindText(3, request_id);
  s.BindInt64(4, std::clamp(limit, 1, 1000));
  return CollectOutbox(s);
}

Result<std::map<std::string, int64_t>> SqliteStore::CountOutboxByState() {
  static constexpr char kSelect[] = "SELECT state, COUNT(*) FROM outbox GROUP BY state";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  std::map<std::string, int64_t> counts;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return counts;
    counts[std::string(s.ColumnText(0))] = s.ColumnInt64(1);
  }
}

Result<std::string> SqliteStore::FindChannelMessage(std::string_view request_id,
                                                    std::string_view destination) {
  static constexpr char kSelect[] =
      "SELECT ref FROM channel_messages WHERE request_id = ?1 AND destination = ?2";
  Reader reader = AcquireReader();
  auto statement = reader->Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindText(2, destination);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::string();
  return std::string(s.ColumnText(0));
}

Result<std::optional<Conversation>> SqliteStore::GetConversation(std::string_view tenant,
                                                                 std::string_view request_id) {
  Reader reader = AcquireReader();
  return sqlite_conversations::Find(*reader, tenant, request_id);
}

Result<std::vector<ConversationMessage>> SqliteStore::ListMessages(std::string_view request_id,
                                                                   int64_t since, int limit) {
  Reader reader = AcquireReader();
  return sqlite_conversations::ListMessages(*reader, request_id, since, limit);
}

Result<std::vector<Conversation>> SqliteStore::ListDueConversations(TimePoint now, int limit) {
  Reader reader = AcquireReader();
  return sqlite_conversations::ListDue(*reader, now, limit);
}

Result<std::optional<TimePoint>> SqliteStore::NextConversationDue() {
  Reader reader = AcquireReader();
  return sqlite_conversations::NextDue(*reader);
}

Status SqliteStore::Ping() {
  Reader reader = AcquireReader();
  return reader->Run("SELECT 1");
}

}  // namespace countersign
