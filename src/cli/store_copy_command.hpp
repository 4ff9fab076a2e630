// `countersign store copy --from STORE --to STORE`: moves a store's whole content into a new,
// empty database (SQLite to PostgreSQL being the move that matters), keeping the audit chain
// verifiable.
//
// Both ends are migrated to this binary's schema first; a destination that already holds any
// request, event or principal is refused before anything changes, as is a schema newer than
// this binary. The source is only read (in one snapshot; a SQLite source opened read-only),
// and its server should be stopped first. After the copy (StoreCopy) it opens the
// destination as a Store, verifies its whole audit chain and compares the chain's head and
// every table's row count with the source's, and prints a summary. Exit status: 0 copied and
// matching, 1 refused (the destination is not empty, a schema newer than this binary), 2
// copied but the destination does not match the source, 3 any other error (a database cannot
// be reached, the source does not exist, a copy that failed part-way, bad usage). Registered
// on a CLI11 app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class StoreCopyCommand {
 public:
  // Exit status for a copy that finished but does not match its source.
  static constexpr int kExitCopyDiffers = 2;

  // Adds `store copy` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  std::string from_;
  std::string to_;
};

}  // namespace countersign
