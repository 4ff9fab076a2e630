// What SqliteStore does when the disk fails under it, through testing::FaultVfs: a failed
// fsync or write stops the writer for good (until a restart, which loses nothing that was
// acknowledged), a full disk fails one batch only.
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "testing/fault_vfs.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using testing::FaultVfs;
using namespace std::chrono_literals;

// How long a test waits for a write's completion before failing instead of hanging.
constexpr auto kBound = 30s;

::testing::AssertionResult Mentions(const Status& status, std::string_view part) {
  if (status.ok()) return ::testing::AssertionFailure() << "succeeded; expected \"" << part << "\"";
  if (status.error().message.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\"" << status.error().message << "\" does not mention \"" << part << "\"";
}

// A write's outcome, once its `done` has run.
class Completion {
 public:
  Store::WriteDone Callback() {
    return [state = state_](Status status) { state->set_value(std::move(status)); };
  }
  // The status, or a test failure (and kInternal) when `done` has not run within kBound.
  Status Wait() {
    if (future_.wait_for(kBound) != std::future_status::ready) {
      ADD_FAILURE() << "a write did not complete within " << kBound.count() << "s";
      return Error::Internal("timed out waiting for a write");
    }
    return future_.get();
  }

 private:
  // Shared with the callback, so a completion after a timed-out Wait() is still safe.
  std::shared_ptr<std::promise<Status>> state_ = std::make_shared<std::promise<Status>>();
  std::future<Status> future_ = state_->get_future();
};

Status WriteWithin(Store& store, Store::WriteFn fn) {
  Completion completion;
  store.Write(std::move(fn), completion.Callback());
  return completion.Wait();
}

Request Pending(const std::string& id) {
  Request request;
  request.id = id;
  request.action = "restart_db";
  request.title = "Restart " + id;
  request.created_at = FromUnixMillis(1795255200000);
  request.deadline_at = request.created_at + 15min;
  return request;
}

// One request and its audit event, as the engine writes a new request.
Store::WriteFn CreateRequest(std::string id) {
  return [id = std::move(id)](Transaction& txn) -> Status {
    Request request = Pending(id);
    CS_RETURN_IF_ERROR(txn.InsertRequest(request));
    EventDraft draft{
        request.created_at, request.tenant, id,
        "request.created",  "ci-bot",       boost::json::object{{"title", request.title}}};
    CS_RETURN_IF_ERROR(txn.AppendEvent(std::move(draft)));
    return Ok();
  };
}

class SqliteStoreFaultTest : public ::testing::Test {
 protected:
  // Opens a store on the test's file; through the FaultVfs unless `faulty` is false.
  std::unique_ptr<SqliteStore> Open(bool faulty = true) {
    SqliteStoreOptions options;
    options.path = dir_.File("countersign.db");
    if (faulty) options.vfs = vfs_.name();
    auto opened = SqliteStore::Open(options);
    if (!opened.ok()) {
      ADD_FAILURE() << "Open failed: " << opened.error().message;
      return nullptr;
    }
    return std::move(opened).value();
  }

  // Creates requests `prefix`0 .. `prefix`(n-1), one write each, every one acknowledged.
  std::vector<std::string> CreateAcknowledged(Store& store, const std::string& prefix, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(prefix + std::to_string(i));
      EXPECT_TRUE(WriteWithin(store, CreateRequest(ids.back())).ok()) << ids.back();
    }
    return ids;
  }

  void ExpectHolds(Store& store, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto got = store.GetRequest("default", id);
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_TRUE(got->has_value()) << id << " was acknowledged but is missing";
    }
  }

  void ExpectChainVerifies(Store& store, int64_t at_least) {
    auto audit = store.VerifyAudit();
    ASSERT_TRUE(audit.ok()) << audit.error().message;
    EXPECT_TRUE(audit->ok) << audit->reason;
    EXPECT_GE(audit->events_checked, at_least);
  }

  // The fault-free restart: a new store on the same file, the WAL recovered on open; it holds
  // every acknowledged write, its chain verifies, and it takes writes again.
  void ExpectRestartRecovers(const std::vector<std::string>& acknowledged) {
    std::unique_ptr<SqliteStore> restarted = Open(/*faulty=*/false);
    ASSERT_NE(restarted, nullptr);
    EXPECT_TRUE(restarted->WriterHealth().ok());
    ExpectHolds(*restarted, acknowledged);
    ExpectChainVerifies(*restarted, static_cast<int64_t>(acknowledged.size()));
    EXPECT_TRUE(WriteWithin(*restarted, CreateRequest("after_restart")).ok());
    ExpectChainVerifies(*restarted, static_cast<int64_t>(acknowledged.size()) + 1);
  }

  testing::TempDir dir_;
  FaultVfs vfs_;  // declared after dir_ and before any store, so it outlives their connections
};

TEST_F(SqliteStoreFaultTest, AFailedFsyncFailsThatBatchAndEveryQueuedAndLaterWrite) {
  std::vector<std::string> acknowledged;
  {
    std::unique_ptr<SqliteStore> store = Open();
    ASSERT_NE(store, nullptr);
    acknowledged = CreateAcknowledged(*store, "req_ok_", 5);
    EXPECT_EQ(vfs_.injected(), 0);
    EXPECT_GT(vfs_.syncs(), 0);  // the acknowledged commits were fsync'd through the VFS

    vfs_.Inject(FaultVfs::Fault::kSyncIoError, FaultVfs::Target::kWal);
    // The writer holds the failing batch open while three more writes queue behind it.
    std::latch entered(1);
    std::latch release(1);
    Completion failing;
    store->Write(
        [&](Transaction& txn) {
          entered.count_down();
          release.wait();
          return CreateRequest("req_in_failed_batch")(txn);
        },
        failing.Callback());
    entered.wait();
    std::atomic<int> queued_ran{0};
    std::vector<Completion> queued(3);
    for (auto& completion : queued) {
      store->Write(
          [&](Transaction&) {
            ++queued_ran;
            return Ok();
          },
          completion.Callback());
    }
    release.count_down();

    const Status failed = failing.Wait();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(Mentions(failed, "stopped taking writes after an I/O error"));
    EXPECT_TRUE(Mentions(failed, "must be restarted"));
    EXPECT_TRUE(Mentions(failed, "SQLITE_IOERR_FSYNC"));
    EXPECT_GE(vfs_.injected(), 1);
    for (auto& completion : queued) {
      const Status status = completion.Wait();
      ASSERT_FALSE(status.ok());
      EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
      EXPECT_EQ(status.error().message, failed.error().message);
    }
    EXPECT_EQ(queued_ran.load(), 0);  // failed without running: nothing is written any more

    // Later writes are refused at once, on the caller's thread, even with the disk healthy.
    vfs_.Clear();
    std::optional<Status> later;
    bool later_ran = false;
    store->Write(
        [&](Transaction&) {
          later_ran = true;
          return Ok();
        },
        [&](Status status) { later = std::move(status); });
    ASSERT_TRUE(later.has_value());
    ASSERT_FALSE(later->ok());
    EXPECT_EQ(later->error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(later->error().message, failed.error().message);
    EXPECT_FALSE(later_ran);

    const Status health = store->WriterHealth();
    ASSERT_FALSE(health.ok());
    EXPECT_EQ(health.error().message, failed.error().message);
    // Reads go on, and see everything acknowledged.
    EXPECT_TRUE(store->Ping().ok());
    ExpectHolds(*store, acknowledged);
    ExpectChainVerifies(*store, 5);
  }
  ExpectRestartRecovers(acknowledged);
}

TEST_F(SqliteStoreFaultTest, AFailedWriteInsideACommitAlsoStopsTheWriter) {
  std::vector<std::string> acknowledged;
  {
    std::unique_ptr<SqliteStore> store = Open();
    ASSERT_NE(store, nullptr);
    acknowledged = CreateAcknowledged(*store, "req_ok_", 3);
    // The commit below writes many WAL frames; let two through and fail the third.
    vfs_.Inject(FaultVfs::Fault::kWriteIoError, FaultVfs::Target::kWal, /*after=*/2);
    const Status failed = WriteWithin(*store, [](Transaction& txn) -> Status {
      for (int i = 0; i < 50; ++i)
        CS_RETURN_IF_ERROR(CreateRequest("req_big_" + std::to_string(i))(txn));
      return Ok();
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(Mentions(failed, "stopped taking writes after an I/O error"));
    EXPECT_TRUE(Mentions(failed, "SQLITE_IOERR_WRITE"));
    EXPECT_EQ(vfs_.injected(), 1);

    vfs_.Clear();
    const Status later = WriteWithin(*store, CreateRequest("req_later"));
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.error().message, failed.error().message);
    EXPECT_FALSE(store->WriterHealth().ok());
    ExpectHolds(*store, acknowledged);
    auto big = store->GetRequest("default", "req_big_0");
    ASSERT_TRUE(big.ok());
    EXPECT_FALSE(big->has_value());  // the failed batch is not visible
  }
  ExpectRestartRecovers(acknowledged);
}

TEST_F(SqliteStoreFaultTest, AFullDiskFailsOneBatchAndTheNextWriteSucceeds) {
  std::unique_ptr<SqliteStore> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> acknowledged = CreateAcknowledged(*store, "req_before_", 2);

  vfs_.Inject(FaultVfs::Fault::kWriteFull, FaultVfs::Target::kWal);
  const Status full = WriteWithin(*store, CreateRequest("req_while_full"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Mentions(full, "full"));
  EXPECT_FALSE(Mentions(full, "stopped taking writes"));
  EXPECT_GE(vfs_.injected(), 1);
  EXPECT_TRUE(store->WriterHealth().ok());  // transient: the writer is not stopped

  vfs_.Clear();
  ASSERT_TRUE(WriteWithin(*store, CreateRequest("req_after")).ok());
  acknowledged.push_back("req_after");
  EXPECT_TRUE(store->WriterHealth().ok());
  ExpectHolds(*store, acknowledged);
  auto lost = store->GetRequest("default", "req_while_full");
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->has_value());
  ExpectChainVerifies(*store, 3);
  auto audit = store->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->events_checked, 3);  // the refused write's event left no gap
}

TEST_F(SqliteStoreFaultTest, AFaultOnlyAfterNMoreCallsLetsThoseThrough) {
  std::unique_ptr<SqliteStore> store = Open();
  ASSERT_NE(store, nullptr);
  // Each commit fsyncs the WAL once: the next two commits pass, the third fails.
  vfs_.Inject(FaultVfs::Fault::kSyncIoError, FaultVfs::Target::kWal, /*after=*/2);
  EXPECT_TRUE(WriteWithin(*store, CreateRequest("req_1")).ok());
  EXPECT_TRUE(WriteWithin(*store, CreateRequest("req_2")).ok());
  EXPECT_EQ(vfs_.injected(), 0);
  EXPECT_TRUE(Mentions(WriteWithin(*store, CreateRequest("req_3")), "SQLITE_IOERR_FSYNC"));
  EXPECT_EQ(vfs_.injected(), 1);
}

TEST_F(SqliteStoreFaultTest, AFaultAimedAtTheDatabaseFileLeavesWalCommitsAlone) {
  std::unique_ptr<SqliteStore> store = Open();
  ASSERT_NE(store, nullptr);
  // In WAL mode a commit writes and syncs only the WAL; the database file is touched by
  // checkpoints, which are far away here.
  vfs_.Inject(FaultVfs::Fault::kSyncIoError, FaultVfs::Target::kMainDb);
  CreateAcknowledged(*store, "req_", 3);
  EXPECT_EQ(vfs_.injected(), 0);
  EXPECT_TRUE(store->WriterHealth().ok());
}

}  // namespace
}  // namespace countersign
