// StoreCopy: copies every row of one store's database into another's, SQLite or PostgreSQL
// either way (`countersign store copy`), so that the copy's audit chain verifies and ends at
// the same event as the source's.
//
// Both databases must already hold this binary's schema (open and stop a SqliteStore or
// PgStore on each first). Copy() refuses (kConflict, nothing written) a destination that
// already holds any request, event or principal; it then reads the source in one read-only
// snapshot and copies the tables in an order that satisfies their references (principals,
// requests, decisions, events, idempotency, grants, outbox, channel_messages,
// audit_checkpoint, conversations, conversation_messages), each in pages of kPageRows rows
// taken in primary-key order, one destination transaction per page. Values travel as the
// exact text (or NULL) the source stored, so JSON and the events' hashed data keep their
// bytes; outbox ids are kept, and PostgreSQL's identity is moved past the largest. A copy that
// fails part-way leaves the rows of the pages already committed: empty the destination
// (recreate the database) before copying again.
//
// Check() then compares, through the destination's Store: row counts per table, a full audit
// verification, and the chain's head against the source's. The source is only read. Stateless;
// the connections and the store are used by the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/store.hpp"

namespace countersign {

// One table's part in a copy.
struct TableCopyCount {
  std::string table;
  int64_t source_rows = 0;       // rows read from the source's snapshot
  int64_t destination_rows = 0;  // rows the destination holds once the table is copied
};

struct StoreCopyReport {
  std::vector<TableCopyCount> tables;  // in copy order
  AuditHead source_head;               // the source's last event (seq 0 when it has none)
};

struct StoreCopyCheck {
  std::vector<std::string> differences;  // what does not match; empty when everything does
  int64_t events_verified = 0;           // by the destination's full audit verification
  AuditHead destination_head;
  bool ok() const { return differences.empty(); }
};

class StoreCopy {
 public:
  // Rows per destination transaction (and per source read).
  static constexpr int kPageRows = 1000;
  // Called after each table is copied, with its counts.
  using TableDone = std::function<void(const TableCopyCount&)>;

  // The tables a copy moves, in the order it moves them.
  static std::vector<std::string_view> Tables();

  // Ok when `destination` holds no request, event or principal; otherwise kConflict saying
  // how many it holds. Reads only.
  static Status CheckEmpty(SqlConnection& destination);

  // Copies every table of `source` into `destination` (see the top of this file). kConflict
  // when the destination is not empty (nothing is written then); other errors name the table
  // and carry the database's message.
  static Result<StoreCopyReport> Copy(SqlConnection& source, SqlConnection& destination,
                                      const TableDone& table_done = nullptr);

  // Compares `destination` (the Store on the database just copied into) with `report`: every
  // table's counts, VerifyAudit() from the genesis hash, and its head's seq and hash against
  // the source's. An error only when the store cannot be read.
  static Result<StoreCopyCheck> Check(const StoreCopyReport& report, Store& destination);
};

}  // namespace countersign
