// The audit chain through the Store interface, on SqliteStore and PgStore alike
// (StoreFixture): AppendEvent links each event to the one before it, and VerifyAudit, whole or
// in chunks from a checkpoint, finds exactly the event that was edited, deleted or forged
// behind the store's back.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/canonical_json.hpp"
#include "core/event.hpp"
#include "store/store.hpp"
#include "testing/store_fixture.hpp"
#include "testing/store_test_values.hpp"

namespace countersign {
namespace {

using namespace countersign::testing;

const TimePoint kT0 = kStoreT0;

class AuditChainTest : public StoreFixture {
 protected:
  // Appends `n` events in writes of at most 1000; returns the last one's seq.
  int64_t AppendMany(int n) {
    int64_t last = 0;
    for (int done = 0; done < n;) {
      const int chunk = std::min(1000, n - done);
      EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                    for (int i = 0; i < chunk; ++i) {
                      auto seq = txn.AppendEvent(MakeDraft(i % 2 ? "acme" : "default",
                                                           "req_" + std::to_string(done + i),
                                                           "request.created", {{"i", done + i}}));
                      if (!seq.ok()) return std::move(seq).error();
                      last = *seq;
                    }
                    return Ok();
                  }).ok());
      done += chunk;
    }
    return last;
  }

  // Verifies from `from` in calls of `chunk` events until the end or a failure; the summed
  // report, and in `calls` how many calls it took.
  AuditReport VerifyInChunks(AuditCheckpoint from, int64_t chunk, int* calls) {
    AuditReport total;
    total.checkpoint = from;
    *calls = 0;
    for (;;) {
      auto report = store_->VerifyAudit(total.checkpoint, chunk);
      ++*calls;
      EXPECT_TRUE(report.ok()) << report.error().message;
      if (!report.ok()) return total;
      EXPECT_LE(report->events_checked, chunk);
      const int64_t checked = total.events_checked + report->events_checked;
      total = *report;
      total.events_checked = checked;
      if (!report->ok || report->reached_end) return total;
      EXPECT_EQ(report->events_checked, chunk);  // stopped early only at its limit
    }
  }

  Status PutCheckpoint(const AuditCheckpoint& checkpoint) {
    return WriteAndWait(*store_,
                        [&](Transaction& txn) { return txn.PutAuditCheckpoint(checkpoint); });
  }

  // Appends five events (seq 1..5) over two writes and returns them as AppendEvent built them.
  std::vector<Event> AppendFive() {
    std::vector<Event> events;
    auto append = [&](Transaction& txn, EventDraft draft) -> Status {
      auto event = txn.AppendEvent(draft);
      if (!event.ok()) return std::move(event).error();
      events.push_back(txn.AppendedEvents().back());
      return Ok();
    };
    EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                  if (auto s = append(txn, MakeDraft("default", "req_1", "request.created",
                                                     {{"title", "x"}, {"n", 1.5}}));
                      !s.ok()) {
                    return s;
                  }
                  if (auto s = append(txn, MakeDraft("acme", "req_2", "request.created",
                                                     {{"z", 1}, {"a", {{"k", nullptr}}}}));
                      !s.ok()) {
                    return s;
                  }
                  return append(txn, MakeDraft("default", "req_1", "decision.recorded",
                                               {{"choice", "approve"}}));
                }).ok());
    EXPECT_TRUE(WriteAndWait(*store_, [&](Transaction& txn) -> Status {
                  if (auto s = append(txn, MakeDraft("default", "req_1", "request.approved", {}));
                      !s.ok()) {
                    return s;
                  }
                  return append(txn, MakeDraft("acme", "", "token.created",
                                               {{"quote", "she said \"hi\"\n"}}));
                }).ok());
    return events;
  }
};

INSTANTIATE_TEST_SUITE_P(Sqlite, AuditChainTest, ::testing::Values(kSqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, AuditChainTest, ::testing::Values(kPostgres));

TEST_P(AuditChainTest, AppendEventBuildsAChainThatVerifyAuditAccepts) {
  ASSERT_TRUE(OpenStore());
  std::vector<Event> events = AppendFive();
  ASSERT_EQ(events.size(), 5u);
  std::string prev = kGenesisHash;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(events[i].prev_hash, prev);
    EXPECT_EQ(events[i].hash, ChainHash(events[i]));
    prev = events[i].hash;
  }
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 5);

  auto listed = store_->ListEvents({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*listed)[i].seq, events[i].seq);
    EXPECT_EQ((*listed)[i].at, events[i].at);
    EXPECT_EQ((*listed)[i].tenant, events[i].tenant);
    EXPECT_EQ((*listed)[i].request_id, events[i].request_id);
    EXPECT_EQ((*listed)[i].type, events[i].type);
    EXPECT_EQ((*listed)[i].actor, events[i].actor);
    EXPECT_EQ((*listed)[i].data, events[i].data);
    EXPECT_EQ((*listed)[i].prev_hash, events[i].prev_hash);
    EXPECT_EQ((*listed)[i].hash, events[i].hash);
  }
  auto seqs = [&](EventFilter filter) {
    std::vector<int64_t> out;
    auto got = store_->ListEvents(filter);
    EXPECT_TRUE(got.ok());
    if (got.ok()) {
      for (const auto& e : *got) out.push_back(e.seq);
    }
    return out;
  };
  EXPECT_EQ(seqs(Events("default")), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(seqs(Events("acme")), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(seqs(Events("", "req_1")), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(seqs(Events("default", "", 1, 1)), (std::vector<int64_t>{3}));
  EXPECT_EQ(seqs(Events("", "", 5)), (std::vector<int64_t>{}));
}

TEST_P(AuditChainTest, VerifyAuditOfAnEmptyLogIsOk) {
  ASSERT_TRUE(OpenStore());
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->events_checked, 0);
}

TEST_P(AuditChainTest, EditingAnEventsDataMakesVerifyAuditNameExactlyThatSeq) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  RawExec("UPDATE events SET data = '{\"choice\":\"deny\"}' WHERE seq = 3");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 3);
  EXPECT_TRUE(HasText(report->reason, "hash mismatch"));
  EXPECT_EQ(report->events_checked, 3);
}

// VerifyAudit hashes the stored columns as they lie (no Event is built): each column the hash
// covers must still count, and so must the boundary between data and the member after it.
TEST_P(AuditChainTest, EditingAnyHashedColumnMakesVerifyAuditNameThatSeq) {
  ASSERT_TRUE(OpenStore());
  const std::vector<Event> events = AppendFive();
  const Event& third = events[2];
  const std::string data = CanonicalJson(third.data);
  struct Edit {
    std::string set;
    std::string undo;
  };
  const std::vector<Edit> edits = {
      {"at = at + 1", "at = at - 1"},
      {"tenant = 'acme'", "tenant = '" + third.tenant + "'"},
      {"request_id = 'req_2'", "request_id = '" + third.request_id + "'"},
      {"type = 'decision.denied'", "type = '" + third.type + "'"},
      {"actor = 'mallory'", "actor = '" + third.actor + "'"},
      {"prev_hash = '" + std::string(kGenesisHash) + "'", "prev_hash = '" + third.prev_hash + "'"},
      {"data = '" + data + ",\"request_id\":\"" + third.request_id + "\"', request_id = ''",
       "data = '" + data + "', request_id = '" + third.request_id + "'"},
  };
  for (const Edit& edit : edits) {
    RawExec("UPDATE events SET " + edit.set + " WHERE seq = 3");
    auto report = store_->VerifyAudit();
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->ok) << edit.set;
    EXPECT_EQ(report->first_bad_seq, 3) << edit.set;
    EXPECT_EQ(report->events_checked, 3) << edit.set;
    RawExec("UPDATE events SET " + edit.undo + " WHERE seq = 3");
    report = store_->VerifyAudit();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok) << "after undoing " << edit.set << ": " << report->reason;
  }
}

TEST_P(AuditChainTest, AnEditThatRecomputesTheHashBreaksTheNextLink) {
  ASSERT_TRUE(OpenStore());
  std::vector<Event> events = AppendFive();
  Event forged = events[2];
  forged.data = {{"choice", "deny"}};
  forged.hash = ChainHash(forged);
  RawExec("UPDATE events SET data = '" + CanonicalJson(forged.data) + "', hash = '" + forged.hash +
          "' WHERE seq = 3");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 4);
  EXPECT_TRUE(HasText(report->reason, "prev_hash does not match seq 3"));
}

TEST_P(AuditChainTest, DeletingAMiddleEventIsReportedAsAGapAtItsSeq) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  RawExec("DELETE FROM events WHERE seq = 3");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 3);
  EXPECT_TRUE(HasText(report->reason, "sequence gap"));
}

TEST_P(AuditChainTest, DeletingTheFirstEventIsReportedAtSeqOne) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  RawExec("DELETE FROM events WHERE seq = 1");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 1);
  EXPECT_TRUE(HasText(report->reason, "sequence gap"));
}

TEST_P(AuditChainTest, MalformedStoredDataIsABadEventNotACrash) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  RawExec("UPDATE events SET data = 'not json {' WHERE seq = 2");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 2);
  EXPECT_TRUE(HasText(report->reason, "not valid JSON"));

  auto listed = store_->ListEvents({});
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(listed.error().message, "seq 2"));
}

TEST_P(AuditChainTest, DataRespelledAsTheSameJsonStillVerifiesAndADifferentValueDoesNot) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  // Seq 3 was stored as {"choice":"approve"}; the hash is over the canonical JSON, so spacing
  // alone changes nothing the chain protects (the fast path misses, the parsed check holds).
  RawExec("UPDATE events SET data = '{ \"choice\" : \"approve\" }' WHERE seq = 3");
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 5);
  RawExec("UPDATE events SET data = '{ \"choice\" : \"deny\" }' WHERE seq = 3");
  report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 3);
  EXPECT_TRUE(HasText(report->reason, "hash mismatch"));
}

TEST_P(AuditChainTest, AppendingAfterReopenContinuesTheChain) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  ASSERT_TRUE(OpenStore());
  std::vector<Event> more = AppendFive();
  ASSERT_EQ(more.size(), 5u);
  EXPECT_EQ(more[0].seq, 6);
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 10);
}

TEST_P(AuditChainTest, VerifyingInChunksGivesTheSameReportAsOnePass) {
  ASSERT_TRUE(OpenStore());
  ASSERT_EQ(AppendMany(3000), 3000);
  auto whole = store_->VerifyAudit();
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->ok) << whole->reason;
  EXPECT_TRUE(whole->reached_end);
  EXPECT_EQ(whole->events_checked, 3000);
  EXPECT_EQ(whole->checkpoint.seq, 3000);
  auto last = store_->ListEvents(Events("", "", 2999, 1));
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ(whole->checkpoint.hash, (*last)[0].hash);

  // 256 does not divide 3000; 1000 does, so its third call ends exactly at the last event.
  for (const auto& [chunk, expected_calls] : {std::pair<int64_t, int>{256, 12}, {1000, 3}}) {
    int calls = 0;
    AuditReport chunked = VerifyInChunks({}, chunk, &calls);
    EXPECT_EQ(calls, expected_calls) << "chunk " << chunk;
    EXPECT_TRUE(chunked.ok) << chunked.reason;
    EXPECT_TRUE(chunked.reached_end);
    EXPECT_EQ(chunked.events_checked, whole->events_checked);
    EXPECT_EQ(chunked.checkpoint.seq, whole->checkpoint.seq);
    EXPECT_EQ(chunked.checkpoint.hash, whole->checkpoint.hash);
  }
}

TEST_P(AuditChainTest, ASecondVerifyFromTheStoredCheckpointChecksOnlyTheNewEvents) {
  ASSERT_TRUE(OpenStore());
  auto none = store_->GetAuditCheckpoint();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->seq, 0);
  EXPECT_EQ(none->hash, "");

  AppendFive();
  auto first = store_->VerifyAudit();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->ok);
  AuditCheckpoint checkpoint = first->checkpoint;
  checkpoint.verified_at = kT0;
  ASSERT_TRUE(PutCheckpoint(checkpoint).ok());
  ASSERT_TRUE(OpenStore());  // the checkpoint is durable, not a cache
  auto stored = store_->GetAuditCheckpoint();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->seq, 5);
  EXPECT_EQ(stored->hash, first->checkpoint.hash);
  EXPECT_EQ(stored->verified_at, kT0);

  AppendMany(10);
  auto second = store_->VerifyAudit(*stored, Store::kWholeChain);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->ok) << second->reason;
  EXPECT_TRUE(second->reached_end);
  EXPECT_EQ(second->events_checked, 10);
  EXPECT_EQ(second->checkpoint.seq, 15);
  // Nothing new: nothing to hash, and the checkpoint stays where it was.
  auto third = store_->VerifyAudit(second->checkpoint, Store::kWholeChain);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->ok);
  EXPECT_TRUE(third->reached_end);
  EXPECT_EQ(third->events_checked, 0);
  EXPECT_EQ(third->checkpoint.seq, 15);
  EXPECT_EQ(third->checkpoint.hash, second->checkpoint.hash);
}

TEST_P(AuditChainTest, ATamperedEventIsFoundByAFullAndAnIncrementalVerifyCoveringIt) {
  ASSERT_TRUE(OpenStore());
  AppendMany(20);
  auto head = store_->VerifyAudit({}, 10);
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(head->ok);
  ASSERT_FALSE(head->reached_end);
  ASSERT_EQ(head->checkpoint.seq, 10);

  RawExec("UPDATE events SET data = '{\"i\":1000}' WHERE seq = 14");
  auto full = store_->VerifyAudit();
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->ok);
  EXPECT_EQ(full->first_bad_seq, 14);
  EXPECT_TRUE(HasText(full->reason, "hash mismatch"));
  auto incremental = store_->VerifyAudit(head->checkpoint, Store::kWholeChain);
  ASSERT_TRUE(incremental.ok());
  EXPECT_FALSE(incremental->ok);
  EXPECT_FALSE(incremental->reached_end);
  EXPECT_EQ(incremental->first_bad_seq, 14);
  EXPECT_EQ(incremental->events_checked, 4);
  EXPECT_EQ(incremental->checkpoint.seq, 13);  // the last good event, to resume from
  EXPECT_TRUE(HasText(incremental->reason, "hash mismatch"));

  // An edited hash column breaks the link to the next event the same way.
  RawExec("UPDATE events SET data = '{\"i\":13}' WHERE seq = 14");
  RawExec("UPDATE events SET hash = '" + std::string(64, 'a') + "' WHERE seq = 17");
  for (const AuditCheckpoint& from : {AuditCheckpoint{}, head->checkpoint}) {
    auto report = store_->VerifyAudit(from, Store::kWholeChain);
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->first_bad_seq, 17) << "from seq " << from.seq;
  }
}

TEST_P(AuditChainTest, AnEditBeforeTheCheckpointIsFoundOnlyByAFullVerify) {
  ASSERT_TRUE(OpenStore());
  AppendMany(20);
  auto head = store_->VerifyAudit({}, 10);
  ASSERT_TRUE(head.ok() && head->ok);
  RawExec("UPDATE events SET data = '{\"i\":1000}' WHERE seq = 3");
  // What the checkpoint covers is not hashed again (documented in store.hpp) ...
  auto incremental = store_->VerifyAudit(head->checkpoint, Store::kWholeChain);
  ASSERT_TRUE(incremental.ok());
  EXPECT_TRUE(incremental->ok);
  EXPECT_EQ(incremental->events_checked, 10);
  // ... so a full verify from zero stays the way to re-check old events.
  auto full = store_->VerifyAudit();
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->ok);
  EXPECT_EQ(full->first_bad_seq, 3);
}

TEST_P(AuditChainTest, ACheckpointThatDoesNotMatchTheLogIsReportedNotTrusted) {
  ASSERT_TRUE(OpenStore());
  std::vector<Event> events = AppendFive();
  ASSERT_EQ(events.size(), 5u);

  auto expect_refused = [&](const AuditCheckpoint& from, std::string_view why) {
    auto report = store_->VerifyAudit(from, Store::kWholeChain);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_FALSE(report->ok) << why;
    EXPECT_EQ(report->first_bad_seq, from.seq) << why;
    EXPECT_TRUE(HasText(report->reason, why));
    EXPECT_EQ(report->events_checked, 0);
    EXPECT_EQ(report->checkpoint.seq, 0);  // nothing to resume from: start over from zero
    EXPECT_EQ(report->checkpoint.hash, "");
  };
  expect_refused({3, events[1].hash, {}}, "checkpoint's hash does not match");
  expect_refused({9, events[4].hash, {}}, "not in the log");
  // A genuine checkpoint whose event was edited afterwards (hash column rewritten to match a
  // forged row, or the row's data changed under its old hash).
  RawExec("UPDATE events SET data = '{\"choice\":\"deny\"}' WHERE seq = 3");
  expect_refused({3, events[2].hash, {}}, "hash mismatch");

  // Storing one that does not match is refused as well.
  Status put = PutCheckpoint({4, events[2].hash, kT0});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kInvalid);
  put = PutCheckpoint({6, events[4].hash, kT0});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kInvalid);
  auto stored = store_->GetAuditCheckpoint();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->seq, 0);
  EXPECT_TRUE(PutCheckpoint({4, events[3].hash, kT0}).ok());
  EXPECT_TRUE(PutCheckpoint({}).ok());  // back to "nothing verified" is allowed
}

TEST_P(AuditChainTest, AVerifyWithoutRoomForOneEventOrAHalfCheckpointIsInvalid) {
  ASSERT_TRUE(OpenStore());
  AppendFive();
  for (const auto& [from, max_events] :
       {std::pair<AuditCheckpoint, int64_t>{{}, 0}, {{2, "", {}}, 10}, {{0, "abc", {}}, 10}}) {
    auto report = store_->VerifyAudit(from, max_events);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error().code, ErrorCode::kInvalid);
  }
}

}  // namespace
}  // namespace countersign
