// FaultVfs: a SQLite VFS that wraps the default one and fails chosen calls on demand, so tests
// can show what the store does when the disk misbehaves (in the spirit of leveldb's SpecialEnv),
// without root, a tmpfs or a dying disk.
//
// Construction registers the VFS (not as the default) under a name unique in the process; open
// connections with it by passing name() to sqlite3_open_v2 (SqliteStoreOptions::vfs). Until a
// fault is injected every call goes straight to the default VFS. Inject() arms one fault: after
// `after` more successful calls of that kind on matching files, every such call fails, until
// Clear(). Inject(), Clear() and the counters are thread-safe (atomics) and may be called while
// other threads run SQLite on connections using this VFS. Destroy the FaultVfs (which
// unregisters it) only after every connection using it is closed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include <sqlite3.h>

namespace countersign::testing {

class FaultVfs {
 public:
  enum class Fault {
    kNone,
    kWriteIoError,  // xWrite returns SQLITE_IOERR_WRITE (a failed write(2))
    kSyncIoError,   // xSync returns SQLITE_IOERR_FSYNC (a failed fsync(2))
    kWriteFull,     // xWrite returns SQLITE_FULL (no space left on the device)
    kTornWrite,     // a crash in the middle of a write: see InjectCrash()
  };
  // Which files a fault applies to, by how SQLite opened them.
  enum class Target {
    kAnyFile,
    kMainDb,  // the database file itself
    kWal,     // its write-ahead log (the "-wal" file)
  };

  FaultVfs();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // The name to open connections with.
  const std::string& name() const { return name_; }

  // Arms `fault` for `target` files, failing from the (after + 1)-th matching call on.
  // Replaces whatever was armed before.
  void Inject(Fault fault, Target target = Target::kAnyFile, int64_t after = 0);
  // Arms a crash at the (after + 1)-th write to `target` files: half of that write reaches the
  // file, then `at_crash` runs on the writing thread (a test copies the files there: the disk
  // as the crash left it), and from then on every write, sync and truncate of every file fails
  // with SQLITE_IOERR, so nothing more reaches the disk, until Clear().
  void InjectCrash(Target target, int64_t after, std::function<void()> at_crash);
  // Disarms: every call succeeds again (as far as the real disk lets it).
  void Clear();

  // While the read gate is closed, every xRead (of any file, on any connection) waits until it
  // opens: a test can hold a long read in the middle and show what else goes on meanwhile.
  void CloseReadGate();
  void OpenReadGate();
  // Waits until at least `n` reads are held at the closed gate, or `limit` passes; whether
  // they are.
  bool AwaitHeldReads(int n, std::chrono::milliseconds limit);

  // Calls failed on purpose since construction.
  int64_t injected() const { return injected_.load(); }
  // xSync calls that reached the real VFS since construction (all files).
  int64_t syncs() const { return syncs_.load(); }
  // Whole xWrite calls that reached the real VFS since construction (all files).
  int64_t writes() const { return writes_.load(); }

 private:
  struct Callbacks;  // the sqlite3_vfs and sqlite3_io_methods entry points (fault_vfs.cpp)

  enum class Call { kWrite, kSync, kTruncate };
  // FaultFor's answer when the write at hand is the one a crash tears.
  static constexpr int kTear = -1;
  // Returns once the read gate is open.
  void PassReadGate();
  // The result code a `call` on a file of `target` kind must fail with, or SQLITE_OK.
  int FaultFor(Call call, Target file);

  std::string name_;
  sqlite3_vfs* real_;  // the default VFS, which does the actual I/O
  sqlite3_vfs vfs_{};  // what is registered under name_

  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<Target> target_{Target::kAnyFile};
  std::atomic<int64_t> successes_left_{0};  // matching calls still let through before failing
  std::atomic<int64_t> injected_{0};
  std::atomic<int64_t> syncs_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<bool> crashed_{false};  // a torn write happened: everything fails from now on
  std::function<void()> at_crash_;    // set by InjectCrash() before it arms the fault

  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;  // guarded by gate_mu_
  int held_reads_ = 0;        // guarded by gate_mu_
};

}  // namespace countersign::testing
