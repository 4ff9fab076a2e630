#include "store/sql/pending_write.hpp"

#include <exception>
#include <iterator>
#include <string>

#include <spdlog/spdlog.h>

#include "store/sql/sql_transaction.hpp"

namespace countersign {

Status RunPendingWrite(SqlConnection& connection, PendingWrite& op, std::vector<Event>& events) {
  // The events of the batch's operations that succeeded so far end the chain (the writer
  // holds it); before the first, the transaction reads the head once.
  ChainHead head;
  if (!events.empty()) head = ChainHead{true, events.back().seq, events.back().hash};
  SqlTransaction transaction(connection, &head);
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

void TellCommitListeners(const std::vector<Store::CommitListener>& listeners,
                         const std::vector<Event>& events) {
  for (const auto& listener : listeners) {
    try {
      listener(events);
    } catch (const std::exception& e) {
      spdlog::error("store: a commit listener threw: {}", e.what());
    }
  }
}

void CompletePendingWrites(std::vector<PendingWrite>& batch, std::vector<Status>& results) {
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

}  // namespace countersign
