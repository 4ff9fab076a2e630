// PgStore: the Store on PostgreSQL, for several replicas sharing one database.
//
// Writes: one writer connection and thread per replica, with group commit as in SqliteStore
// (everything queued, up to max_batch, in one transaction; each operation in a savepoint when
// the batch has more than one). Every write transaction first takes the advisory lock that
// stands for the audit chain's head (pg_advisory_xact_lock, released by COMMIT), so batches of
// all replicas append to the one hash chain one at a time, in seq order, with no gaps and no
// deadlocks (nothing else is locked before it). A batch that appended events NOTIFYs
// `countersign_events` in the same transaction. Compare-and-set transitions and unique
// constraints are the shared SQL's (store/sql/), so two replicas deciding or expiring the same
// request produce one winner.
//
// Reads: a pool of connections opened on demand (at most read_connections). A connection that
// broke is dropped when returned, and the next read opens a fresh one, so a database restart
// costs the reads that were running and nothing else.
//
// Commit listeners hear every replica's commits through PgEventFeed (LISTEN/NOTIFY plus a read
// of the events table), once each and in seq order.
//
// Failures: any write that cannot reach the database fails with kUnavailable (the HTTP layer
// answers 503 with Retry-After); the writer opens a new connection for the next batch, at most
// every 250 ms, and WriterHealth() reports the outage until a batch commits or a Ping()
// reaches the database again. A COMMIT whose
// answer was lost may have committed: the writes are reported failed (never acknowledged
// without being durable), and their events still reach the listeners through the feed.
//
// The outbox: ListDueOutbox() claims the rows it returns for `outbox_lease` (FOR UPDATE SKIP
// LOCKED), so each row is delivered by one replica; a replica that dies mid-delivery leaves a
// lease that runs out, and another replica then delivers the row with the same delivery id.
// Recording an attempt (UpdateOutbox) ends the lease.
//
// Open() applies pending migrations (store/postgres/migrations/) under a session advisory lock,
// so replicas starting together migrate once, and refuses a schema newer than this binary.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_event_feed.hpp"
#include "store/sql/pending_write.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/write_queue.hpp"

namespace countersign {

struct PgStoreOptions {
  std::string url;           // postgres://user@host:port/database?... (libpq's URI form)
  int read_connections = 8;  // most read connections open at once, >= 1
  size_t max_queue = 10000;  // writes waiting for the writer before Write() refuses more
  size_t max_batch = 512;    // most operations committed in one transaction
  // How long a claimed outbox row stays this replica's; longer than any delivery attempt.
  std::chrono::seconds outbox_lease{120};
  // Who holds a lease; empty: "<host>:<pid>:<random>".
  std::string replica_id;
  // The event feed's fallback read interval, without notifications.
  std::chrono::milliseconds feed_poll{1000};
};

class PgStore final : public SqlStore {
 public:
  // Connects, migrates and starts the writer and the event feed. kUnavailable when the
  // database cannot be reached; kInternal when its schema is newer than this binary or a
  // migration fails.
  static Result<std::unique_ptr<PgStore>> Open(const PgStoreOptions& options);

  // Applies pending migrations to the database at `url` and returns the schema version
  // (`countersign migrate`). Safe while replicas run: they hold the same advisory lock.
  static Result<int64_t> Migrate(const std::string& url);

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  void Write(WriteFn fn, WriteDone done) override;
  void AddCommitListener(CommitListener listener) override;
  Result<std::vector<OutboxRow>> ListDueOutbox(TimePoint now, int limit) override;
  Status Ping() override;
  Status WriterHealth() const override;
  StoreStats Stats() const override;
  void Stop() override;

  const PgEventFeed& feed() const { return *feed_; }
  const std::string& replica_id() const { return options_.replica_id; }

 protected:
  Result<Lease> Borrow() override;
  void Return(SqlConnection* connection) override;

 private:
  PgStore(const PgStoreOptions& options, std::unique_ptr<PgConnection> writer, int64_t last_seq);

  void WriterLoop();
  void CommitBatch(std::vector<PendingWrite>& batch);
  // Runs the batch's operations and commits; the error every operation gets when the batch as
  // a whole failed.
  std::optional<Error> RunBatch(std::vector<PendingWrite>& batch, std::vector<Status>& results,
                                std::vector<Event>& events);
  // A live writer connection, opening one when there is none (at most every 250 ms).
  Status EnsureWriter();
  Result<std::vector<Event>> ReadEventsAfter(int64_t after, int limit);

  PgStoreOptions options_;
  std::unique_ptr<PgConnection> writer_;  // used only by writer_thread_; null while down
  std::chrono::steady_clock::time_point next_connect_{};  // writer thread only
  std::unique_ptr<PgEventFeed> feed_;

  WriteQueue queue_;
  mutable Mutex mu_;
  std::optional<Error> outage_ CS_GUARDED_BY(mu_);  // the last batch's failure to reach the db
  StoreStats stats_ CS_GUARDED_BY(mu_);

  std::mutex stop_mu_;  // serialises Stop() callers around the join (see SqliteStore)
  std::thread writer_thread_;
  std::thread::id writer_id_;

  Mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<PgConnection>> free_readers_ CS_GUARDED_BY(readers_mu_);
  int open_readers_ CS_GUARDED_BY(readers_mu_) = 0;  // free and lent out
};

}  // namespace countersign
