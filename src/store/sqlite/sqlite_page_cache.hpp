// SqlitePageCache: SQLite's own page cache, wrapped so that a commit does not walk the whole
// cache for nothing.
//
// At the end of every write transaction SQLite truncates its page cache to the database's size
// (sqlite3PcacheTruncate: pages past the end are dropped). The default cache (pcache1) walks
// only the hash slots that can hold such pages, unless the largest page number it has ever been
// handed since its last truncate is far above that size; then it walks every slot and every
// cached page. SQLite 3.39 and later (Debian 12 ships 3.40) make that happen in any write
// transaction of a database under 1 GiB in which a B-tree rebalance swaps two pages: it parks
// one at the lock-byte page's number (page 262,145 with 4 KiB pages) for a moment. Decides do
// that nearly every time (their UPDATEs grow rows). With the writer's 64 MiB cache full, that
// is some 16,000 page headers read at the commit: 7% of the server's samples with wrk
// approving pending requests (perf).
//
// The wrapper keeps, per cache, the page numbers at or above the last truncate's limit that it
// has handed out (new pages past the end of the database, and the swap's parking place, which
// it forgets again when the page moves on). A truncate that has none of them at or above its
// limit has nothing to drop, and is not passed on. Anything the wrapper cannot account for
// (a cache that was cleared, a page number below the last limit, a failed allocation) passes
// the truncate on, so the default cache stays the judge of what it holds.
//
// Process-wide: Install() must run before SQLite initialises itself (SqliteConnection::Open
// calls it first). Each cache belongs to one connection, which one thread uses at a time.
#pragma once

#include <cstdint>

namespace countersign {

class SqlitePageCache {
 public:
  // Wraps SQLite's current page cache. False when SQLite is already initialised (sqlite3_config
  // refuses then): SQLite keeps its own, unwrapped.
  static bool Install();

  // True once Install() succeeded.
  static bool Installed();

  // Truncates passed on to the default cache, and truncates the wrapper answered itself, since
  // the process started (all caches).
  struct Counts {
    uint64_t passed_on = 0;
    uint64_t skipped = 0;
  };
  static Counts Totals();
};

}  // namespace countersign
