// A crash in the middle of a write, at every write a run of commits makes: the database the
// crash leaves behind opens, holds every write that was acknowledged, whole, and none of the
// others, not even in part. The FaultVfs tears the chosen write (half of it reaches the file),
// copies the files as they are at that moment (the disk a power cut leaves), and fails every
// write after it, so nothing later reaches the copy.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"
#include "store/write_sync.hpp"
#include "testing/fault_vfs.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

namespace fs = std::filesystem;
using testing::FaultVfs;

const TimePoint kT0 = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z
constexpr int kPrefilled = 3;                         // acknowledged before the fault is armed
constexpr int kBatched = 6;   // queued behind a held writer: one commit batch
constexpr int kTrailing = 3;  // one commit each

// One write operation: two audit events and an idempotency row, all tagged `tag`.
Store::WriteFn Operation(std::string tag) {
  return [tag = std::move(tag)](Transaction& txn) -> Status {
    for (int part = 0; part < 2; ++part) {
      auto seq = txn.AppendEvent(
          {kT0, "default", "", "crash.test", "tester", {{"tag", tag}, {"part", part}}});
      if (!seq.ok()) return std::move(seq).error();
    }
    return txn.InsertIdempotency({"default", tag, std::string(64, '0'), "req_" + tag, kT0});
  };
}

struct CrashRun {
  int64_t writes = 0;              // writes that reached the disk (the dry run's count)
  std::vector<std::string> acked;  // tags whose write was acknowledged
  std::vector<std::string> failed;
  std::string image;  // the directory holding what the crash left (or the clean end)
};

// The files of the store, as a crash would leave them on disk.
void CopyImage(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const char* name : {"cs.db", "cs.db-wal", "cs.db.audit-head"}) {
    if (fs::exists(from / name)) {
      fs::copy_file(from / name, to / name, fs::copy_options::overwrite_existing);
    }
  }
}

// Prefills, then (armed to crash at write `crash_at` when given) runs one batch of kBatched
// operations and kTrailing single ones, and stops the store.
CrashRun Scenario(const testing::TempDir& dir, std::optional<int64_t> crash_at) {
  CrashRun run;
  const fs::path live = dir.path() / "live";
  const fs::path image = dir.path() / "image";
  fs::create_directories(live);
  run.image = image.string();
  FaultVfs vfs;
  bool crashed = false;
  {
    SqliteStoreOptions options;
    options.path = (live / "cs.db").string();
    options.vfs = vfs.name();
    options.head_file = (live / "cs.db.audit-head").string();
    auto opened = SqliteStore::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return run;
    auto& store = **opened;
    for (int i = 0; i < kPrefilled; ++i) {
      EXPECT_TRUE(WriteSync(store, Operation("pre" + std::to_string(i))).ok());
    }
    const int64_t writes_before = vfs.writes();
    if (crash_at) {
      vfs.InjectCrash(FaultVfs::Target::kAnyFile, *crash_at, [&] {
        crashed = true;
        CopyImage(live, image);
      });
    }

    std::vector<std::pair<std::string, std::future<Status>>> results;
    const auto submit = [&](std::string tag, Store::WriteFn fn) {
      auto promise = std::make_shared<std::promise<Status>>();
      results.emplace_back(tag, promise->get_future());
      store.Write(std::move(fn), [promise](Status s) { promise->set_value(std::move(s)); });
    };
    // The writer holds its first operation until the batch is queued behind it.
    std::latch queued(1);
    submit("hold", [&, inner = Operation("hold")](Transaction& txn) {
      queued.wait();
      return inner(txn);
    });
    for (int i = 0; i < kBatched; ++i)
      submit("b" + std::to_string(i), Operation("b" + std::to_string(i)));
    queued.count_down();
    for (int i = 0; i < kTrailing; ++i) {
      submit("t" + std::to_string(i), Operation("t" + std::to_string(i)));
      results.back().second.wait();
    }
    for (auto& [tag, future] : results) {
      (future.get().ok() ? run.acked : run.failed).push_back(tag);
    }
    store.Stop();
    run.writes = vfs.writes() - writes_before;
  }  // the store closes (checkpointing the WAL into the database, when it still can)
  if (!crashed) CopyImage(live, image);
  return run;
}

std::vector<std::string> Column(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// What the image holds of `tag`: its events and whether its idempotency row is there.
void ExpectWhole(const std::string& db, const std::string& tag, bool present) {
  const auto events =
      Column(db, "SELECT seq FROM events WHERE json_extract(data, '$.tag') = '" + tag + "'");
  const auto rows = Column(db, "SELECT key FROM idempotency WHERE key = '" + tag + "'");
  EXPECT_EQ(events.size(), present ? 2u : 0u) << tag;
  EXPECT_EQ(rows.size(), present ? 1u : 0u) << tag;
}

TEST(SqliteStoreCrashTest, ATornWriteAnywhereKeepsWhatWasAcknowledgedAndDropsTheRestWhole) {
  int64_t writes = 0;
  {
    testing::TempDir dir;
    const CrashRun dry = Scenario(dir, std::nullopt);
    EXPECT_TRUE(dry.failed.empty());
    EXPECT_EQ(dry.acked.size(), static_cast<size_t>(1 + kBatched + kTrailing));
    writes = dry.writes;
  }
  // WAL frames of at least five commits, and the checkpoint at close.
  ASSERT_GE(writes, 10);
  int crashes_that_lost_writes = 0;
  for (int64_t k = 0; k < writes; ++k) {
    SCOPED_TRACE("crash at write " + std::to_string(k) + " of " + std::to_string(writes));
    testing::TempDir dir;
    const CrashRun run = Scenario(dir, k);
    if (!run.failed.empty()) ++crashes_that_lost_writes;

    SqliteStoreOptions options;
    options.path = run.image + "/cs.db";
    options.head_file = run.image + "/cs.db.audit-head";
    auto reopened = SqliteStore::Open(options);
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    auto chain = (*reopened)->VerifyAudit();
    ASSERT_TRUE(chain.ok());
    EXPECT_TRUE(chain->ok) << chain->reason;
    reopened->reset();

    for (int i = 0; i < kPrefilled; ++i) ExpectWhole(options.path, "pre" + std::to_string(i), true);
    for (const auto& tag : run.acked) ExpectWhole(options.path, tag, true);
    for (const auto& tag : run.failed) ExpectWhole(options.path, tag, false);
  }
  // Most crash points land in a commit and cost its writes; none may cost an acknowledged one.
  EXPECT_GT(crashes_that_lost_writes, 0);
}

}  // namespace
}  // namespace countersign
