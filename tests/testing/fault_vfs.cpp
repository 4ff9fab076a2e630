#include "testing/fault_vfs.hpp"

#include <stdexcept>

#include "store/sqlite/sqlite_page_cache.hpp"

namespace countersign::testing {

// Each file SQLite opens through the FaultVfs is this header followed directly by the real
// VFS's file object (szOsFile covers both), so no allocation happens here.
struct FaultFile {
  sqlite3_file base;  // first, so SQLite's sqlite3_file* is a FaultFile*
  FaultVfs* owner;
  FaultVfs::Target kind;  // kAnyFile when it is neither the database nor its WAL
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

struct FaultVfs::Callbacks {
  static FaultFile* File(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file); }
  static sqlite3_file* Real(sqlite3_file* file) { return File(file)->real(); }
  static const sqlite3_io_methods* RealMethods(sqlite3_file* file) { return Real(file)->pMethods; }
  static sqlite3_vfs* RealVfs(sqlite3_vfs* vfs) {
    return static_cast<FaultVfs*>(vfs->pAppData)->real_;
  }

  // sqlite3_io_methods: the two that can fail on purpose, the rest forwarded as they are.
  static int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    FaultFile* f = File(file);
    const int rc = f->owner->FaultFor(Call::kWrite, f->kind);
    if (rc == kTear) {
      (void)RealMethods(file)->xWrite(Real(file), data, amount / 2, offset);
      if (f->owner->at_crash_) f->owner->at_crash_();
      return SQLITE_IOERR_WRITE;
    }
    if (rc != SQLITE_OK) return rc;
    f->owner->writes_ += 1;
    return RealMethods(file)->xWrite(Real(file), data, amount, offset);
  }
  static int Sync(sqlite3_file* file, int flags) {
    FaultFile* f = File(file);
    if (int rc = f->owner->FaultFor(Call::kSync, f->kind); rc != SQLITE_OK) return rc;
    f->owner->syncs_ += 1;
    return RealMethods(file)->xSync(Real(file), flags);
  }
  static int Close(sqlite3_file* file) { return RealMethods(file)->xClose(Real(file)); }
  static int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
    File(file)->owner->PassReadGate();
    return RealMethods(file)->xRead(Real(file), data, amount, offset);
  }
  static int Truncate(sqlite3_file* file, sqlite3_int64 size) {
    FaultFile* f = File(file);
    if (int rc = f->owner->FaultFor(Call::kTruncate, f->kind); rc != SQLITE_OK) return rc;
    return RealMethods(file)->xTruncate(Real(file), size);
  }
  static int FileSize(sqlite3_file* file, sqlite3_int64* size) {
    return RealMethods(file)->xFileSize(Real(file), size);
  }
  static int Lock(sqlite3_file* file, int level) {
    return RealMethods(file)->xLock(Real(file), level);
  }
  static int Unlock(sqlite3_file* file, int level) {
    return RealMethods(file)->xUnlock(Real(file), level);
  }
  static int CheckReservedLock(sqlite3_file* file, int* out) {
    return RealMethods(file)->xCheckReservedLock(Real(file), out);
  }
  static int FileControl(sqlite3_file* file, int op, void* arg) {
    return RealMethods(file)->xFileControl(Real(file), op, arg);
  }
  static int SectorSize(sqlite3_file* file) { return RealMethods(file)->xSectorSize(Real(file)); }
  static int DeviceCharacteristics(sqlite3_file* file) {
    return RealMethods(file)->xDeviceCharacteristics(Real(file));
  }
  // Shared memory (WAL index) and memory-mapped reads exist from versions 2 and 3 on.
  static int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion < 2 || m->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
    return m->xShmMap(Real(file), region, size, extend, out);
  }
  static int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion < 2 || m->xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
    return m->xShmLock(Real(file), offset, n, flags);
  }
  static void ShmBarrier(sqlite3_file* file) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion >= 2 && m->xShmBarrier != nullptr) m->xShmBarrier(Real(file));
  }
  static int ShmUnmap(sqlite3_file* file, int delete_flag) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion < 2 || m->xShmUnmap == nullptr) return SQLITE_OK;
    return m->xShmUnmap(Real(file), delete_flag);
  }
  static int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion < 3 || m->xFetch == nullptr) {
      *out = nullptr;  // "no mapping": SQLite falls back to xRead
      return SQLITE_OK;
    }
    return m->xFetch(Real(file), offset, amount, out);
  }
  static int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
    const sqlite3_io_methods* m = RealMethods(file);
    if (m->iVersion < 3 || m->xUnfetch == nullptr) return SQLITE_OK;
    return m->xUnfetch(Real(file), offset, page);
  }

  static constexpr sqlite3_io_methods kMethods = {
      .iVersion = 3,
      .xClose = Close,
      .xRead = Read,
      .xWrite = Write,
      .xTruncate = Truncate,
      .xSync = Sync,
      .xFileSize = FileSize,
      .xLock = Lock,
      .xUnlock = Unlock,
      .xCheckReservedLock = CheckReservedLock,
      .xFileControl = FileControl,
      .xSectorSize = SectorSize,
      .xDeviceCharacteristics = DeviceCharacteristics,
      .xShmMap = ShmMap,
      .xShmLock = ShmLock,
      .xShmBarrier = ShmBarrier,
      .xShmUnmap = ShmUnmap,
      .xFetch = Fetch,
      .xUnfetch = Unfetch,
  };

  // sqlite3_vfs: open wraps the file; everything else is the real VFS's business.
  static int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                  int* out_flags) {
    FaultFile* f = File(file);
    f->base.pMethods = nullptr;
    f->owner = static_cast<FaultVfs*>(vfs->pAppData);
    f->kind = (flags & SQLITE_OPEN_MAIN_DB) ? Target::kMainDb
              : (flags & SQLITE_OPEN_WAL)   ? Target::kWal
                                            : Target::kAnyFile;
    sqlite3_vfs* real = RealVfs(vfs);
    f->real()->pMethods = nullptr;
    const int rc = real->xOpen(real, name, f->real(), flags, out_flags);
    // SQLite calls xClose whenever pMethods is set, even after a failed open; mirror the
    // real file so it is closed exactly when the real VFS expects it to be.
    if (f->real()->pMethods != nullptr) f->base.pMethods = &kMethods;
    return rc;
  }
  static int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    return RealVfs(vfs)->xDelete(RealVfs(vfs), name, sync_dir);
  }
  static int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return RealVfs(vfs)->xAccess(RealVfs(vfs), name, flags, out);
  }
  static int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
    return RealVfs(vfs)->xFullPathname(RealVfs(vfs), name, size, out);
  }
  static void* DlOpen(sqlite3_vfs* vfs, const char* name) {
    return RealVfs(vfs)->xDlOpen(RealVfs(vfs), name);
  }
  static void DlError(sqlite3_vfs* vfs, int size, char* out) {
    RealVfs(vfs)->xDlError(RealVfs(vfs), size, out);
  }
  static void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
    return RealVfs(vfs)->xDlSym(RealVfs(vfs), handle, symbol);
  }
  static void DlClose(sqlite3_vfs* vfs, void* handle) {
    RealVfs(vfs)->xDlClose(RealVfs(vfs), handle);
  }
  static int Randomness(sqlite3_vfs* vfs, int size, char* out) {
    return RealVfs(vfs)->xRandomness(RealVfs(vfs), size, out);
  }
  static int Sleep(sqlite3_vfs* vfs, int microseconds) {
    return RealVfs(vfs)->xSleep(RealVfs(vfs), microseconds);
  }
  static int CurrentTime(sqlite3_vfs* vfs, double* out) {
    return RealVfs(vfs)->xCurrentTime(RealVfs(vfs), out);
  }
  static int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
    return RealVfs(vfs)->xGetLastError(RealVfs(vfs), size, out);
  }
  static int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return RealVfs(vfs)->xCurrentTimeInt64(RealVfs(vfs), out);
  }
};

FaultVfs::FaultVfs() {
  static std::atomic<int> instances{0};
  name_ = "countersign_fault_" + std::to_string(++instances);
  // Looking up a VFS initialises SQLite: first wrap its page cache, as the server's first open
  // does, so the stores under test run on the same cache.
  SqlitePageCache::Install();
  real_ = sqlite3_vfs_find(nullptr);
  if (real_ == nullptr || real_->iVersion < 2) {
    throw std::runtime_error("FaultVfs needs a default SQLite VFS of version 2 or later");
  }
  vfs_.iVersion = 2;  // up to xCurrentTimeInt64; the system-call hooks are left out
  vfs_.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Callbacks::Open;
  vfs_.xDelete = Callbacks::Delete;
  vfs_.xAccess = Callbacks::Access;
  vfs_.xFullPathname = Callbacks::FullPathname;
  vfs_.xDlOpen = Callbacks::DlOpen;
  vfs_.xDlError = Callbacks::DlError;
  vfs_.xDlSym = Callbacks::DlSym;
  vfs_.xDlClose = Callbacks::DlClose;
  vfs_.xRandomness = Callbacks::Randomness;
  vfs_.xSleep = Callbacks::Sleep;
  vfs_.xCurrentTime = Callbacks::CurrentTime;
  vfs_.xGetLastError = Callbacks::GetLastError;
  vfs_.xCurrentTimeInt64 = Callbacks::CurrentTimeInt64;
  if (int rc = sqlite3_vfs_register(&vfs_, /*makeDflt=*/0); rc != SQLITE_OK) {
    throw std::runtime_error("cannot register FaultVfs: " + std::string(sqlite3_errstr(rc)));
  }
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

void FaultVfs::Inject(Fault fault, Target target, int64_t after) {
  // Disarmed while the target and count change, so no call sees half of the new setting.
  fault_ = Fault::kNone;
  target_ = target;
  successes_left_ = after;
  fault_ = fault;
}

void FaultVfs::InjectCrash(Target target, int64_t after, std::function<void()> at_crash) {
  fault_ = Fault::kNone;
  crashed_ = false;
  at_crash_ = std::move(at_crash);
  target_ = target;
  successes_left_ = after;
  fault_ = Fault::kTornWrite;
}

void FaultVfs::Clear() {
  fault_ = Fault::kNone;
  crashed_ = false;
}

void FaultVfs::CloseReadGate() {
  std::lock_guard lock(gate_mu_);
  gate_closed_ = true;
}

void FaultVfs::OpenReadGate() {
  {
    std::lock_guard lock(gate_mu_);
    gate_closed_ = false;
  }
  gate_cv_.notify_all();
}

bool FaultVfs::AwaitHeldReads(int n, std::chrono::milliseconds limit) {
  std::unique_lock lock(gate_mu_);
  return gate_cv_.wait_for(lock, limit, [&] { return held_reads_ >= n; });
}

void FaultVfs::PassReadGate() {
  std::unique_lock lock(gate_mu_);
  if (!gate_closed_) return;
  ++held_reads_;
  gate_cv_.notify_all();
  gate_cv_.wait(lock, [&] { return !gate_closed_; });
  --held_reads_;
}

int FaultVfs::FaultFor(Call call, Target file) {
  int rc = SQLITE_OK;
  if (fault_.load() == Fault::kTornWrite && crashed_.load()) {
    injected_ += 1;
    return call == Call::kSync       ? SQLITE_IOERR_FSYNC
           : call == Call::kTruncate ? SQLITE_IOERR_TRUNCATE
                                     : SQLITE_IOERR_WRITE;
  }
  switch (fault_.load()) {
    case Fault::kNone:
      break;
    case Fault::kWriteIoError:
      if (call == Call::kWrite) rc = SQLITE_IOERR_WRITE;
      break;
    case Fault::kSyncIoError:
      if (call == Call::kSync) rc = SQLITE_IOERR_FSYNC;
      break;
    case Fault::kWriteFull:
      if (call == Call::kWrite) rc = SQLITE_FULL;
      break;
    case Fault::kTornWrite:
      if (call == Call::kWrite) rc = kTear;
      break;
  }
  if (rc == SQLITE_OK) return SQLITE_OK;
  const Target target = target_.load();
  if (target != Target::kAnyFile && target != file) return SQLITE_OK;
  for (int64_t left = successes_left_.load(); left > 0;) {
    if (successes_left_.compare_exchange_weak(left, left - 1)) return SQLITE_OK;
  }
  injected_ += 1;
  if (rc == kTear) crashed_ = true;
  return rc;
}

}  // namespace countersign::testing
