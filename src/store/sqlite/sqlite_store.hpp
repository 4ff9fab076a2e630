// SqliteStore: the embedded Store, one SQLite file in WAL mode.
//
// One writer connection owned by one writer thread does every write: Write() queues an
// operation (bounded; a full queue fails at once with kUnavailable), and the writer takes
// everything queued, up to max_batch, into one BEGIN IMMEDIATE ... COMMIT (group commit: one
// fsync per batch, synchronous=FULL). Each operation runs in its own savepoint, so a failing
// one rolls back alone; every `done` runs on the writer thread after COMMIT returns.
//
// Reads run on the calling thread on a bounded pool of read connections (query_only); a read
// that needs several queries runs them in one read transaction, so it sees one snapshot.
// Open() applies pending schema migrations (migrations/NNN_name.sql) and refuses a database
// whose schema is newer than this binary. Stats() counts committed batches and every operation
// in them (an operation that failed alone included).
//
// Failures: SQLITE_FULL (and busy, locked, ...) fails the batch it hit with kUnavailable and
// the writer goes on. A storage fault (any SQLITE_IOERR_*, e.g. a failed fsync, or
// SQLITE_CORRUPT) met anywhere in a batch, its COMMIT included, stops the writer for good:
// the batch fails (unless its COMMIT had already succeeded), every queued and later Write()
// fails with the same kUnavailable error, WriterHealth() returns it, one error line is
// logged, and reads go on. Only a new SqliteStore on the file (a restart) writes again.
//
// All public methods are thread-safe. A `done` callback may call Write() and the reads; a
// Stop() from inside one only stops intake (it cannot join its own thread), and the store must
// not be destroyed from one.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log_throttle.hpp"
#include "core/mutex.hpp"
#include "store/audit_head_file.hpp"
#include "store/sql/pending_write.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/write_queue.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace countersign {

struct SqliteStoreOptions {
  std::string path;          // the database file; its directory must already exist
  int read_connections = 4;  // size of the read pool, >= 1
  size_t max_queue = 10000;  // writes waiting for the writer before Write() refuses more
  size_t max_batch = 512;    // most operations committed in one transaction
  std::string vfs;           // the SQLite VFS every connection uses; empty: SQLite's default
  // PRAGMA quick_check before anything else: a corrupt file is refused (kInternal) at Open.
  bool check_integrity = true;
  // The AuditHeadFile to keep beside the database; empty: none. At Open, a database whose
  // audit chain ends before the recorded event, or holds another event at its seq, is refused
  // (kInternal) unless accept_audit_gap, which logs the gap and records the database's head.
  std::string head_file;
  bool accept_audit_gap = false;
};

class SqliteStore final : public SqlStore {
 public:
  // Opens (creating if needed) the database, migrates it and starts the writer thread.
  // kUnavailable when the file cannot be opened; kInternal when it is corrupt, its schema is
  // newer than this binary knows, or a migration fails.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);

  // Stops (committing what is queued) and closes every connection.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void Write(WriteFn fn, WriteDone done) override;
  void AddCommitListener(CommitListener listener) override;

  Status WriterHealth() const override;
  StoreStats Stats() const override;
  void Stop() override;

 private:
  SqliteStore(const SqliteStoreOptions& options, std::unique_ptr<SqliteConnection> writer,
              std::vector<std::unique_ptr<SqliteConnection>> readers,
              std::unique_ptr<AuditHeadFile> head_file);

  Result<Lease> Borrow() override;
  void Return(SqlConnection* connection) override;
  void WriterLoop();
  void CommitBatch(std::vector<PendingWrite>& batch);
  void RecordCommit(size_t operations, double commit_ms);
  // Enters the failed state after storage fault `rc` (logging it the first time) and returns
  // the error every write gets from now on.
  Error StopWritesAfterFault(int rc, std::string_view what);
  // The failed state's error, or nullopt while the writer works.
  std::optional<Error> WriterFailure() const;

  const SqliteStoreOptions options_;
  mutable Mutex listeners_mu_;
  std::vector<CommitListener> listeners_ CS_GUARDED_BY(listeners_mu_);
  std::unique_ptr<SqliteConnection> writer_;  // used only by writer_thread_
  std::unique_ptr<AuditHeadFile> head_file_;  // used only by writer_thread_; may be null
  LogThrottle head_file_errors_;

  WriteQueue queue_;
  mutable Mutex mu_;
  std::optional<Error> failed_ CS_GUARDED_BY(mu_);  // set once, by the writer, never cleared
  // The last batch failed for a full disk; cleared by the next commit. While it is set and the
  // disk still has next to no space, WriterHealth() says so.
  bool disk_full_ CS_GUARDED_BY(mu_) = false;
  StoreStats stats_ CS_GUARDED_BY(mu_);  // queue_depth filled in by Stats()

  // Serialises Stop() callers around the join. A plain std::mutex: Stop() takes it on every
  // thread but the writer's, a conditional lock the thread-safety analysis cannot follow, and
  // it guards no member the analysis could check.
  std::mutex stop_mu_;
  std::thread writer_thread_;  // started by Open(); joined by Stop() under stop_mu_
  std::thread::id writer_id_;  // set once by Open(), before any Write()

  Mutex readers_mu_;
  std::condition_variable readers_cv_;  // signalled when one is returned
  std::vector<std::unique_ptr<SqliteConnection>> free_readers_ CS_GUARDED_BY(readers_mu_);
};

}  // namespace countersign
