// PendingWrite: one queued Store::Write() operation, and what both SQL stores' writer threads
// do with a batch of them: run each in a SqlTransaction, tell the commit listeners, and call
// each `done`.
//
// Free functions of the writer thread; exceptions thrown by an operation, a listener or a
// completion are caught and logged here, so one bad callback cannot stop a writer.
#pragma once

#include <vector>

#include "core/event.hpp"
#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/store.hpp"

namespace countersign {

struct PendingWrite {
  Store::WriteFn fn;
  Store::WriteDone done;
};

// Runs `op` in a SqlTransaction on `connection` (inside the batch's transaction); on success
// appends the events it wrote to `events`. `events` must hold exactly the events the batch's
// operations have appended so far (the writer holds the chain): the last one is the chain's
// head, so appending needs no query for it.
Status RunPendingWrite(SqlConnection& connection, PendingWrite& op, std::vector<Event>& events);

// Calls each listener with a committed batch's events (not empty).
void TellCommitListeners(const std::vector<Store::CommitListener>& listeners,
                         const std::vector<Event>& events);

// Calls each `done` with its result, on this thread.
void CompletePendingWrites(std::vector<PendingWrite>& batch, std::vector<Status>& results);

}  // namespace countersign
