#include "store/sqlite/sqlite_page_cache.hpp"

#include <atomic>
#include <limits>
#include <new>
#include <set>

#include <sqlite3.h>

namespace countersign {
namespace {

// SQLite's own page cache, as it was before Install().
sqlite3_pcache_methods2 inner_methods;
std::atomic<bool> installed{false};
std::atomic<uint64_t> passed_on{0};
std::atomic<uint64_t> skipped{0};

// The floor of a cache that tracks nothing: every truncate is passed on.
constexpr unsigned kNotTracking = std::numeric_limits<unsigned>::max();

// One connection's cache. Invariant: every page the inner cache holds whose number is at or
// above `floor` is in `high` (`high` may hold numbers of pages that are gone: the inner cache
// recycles and discards pages without saying which).
struct WrappedCache {
  sqlite3_pcache* inner = nullptr;
  unsigned floor = kNotTracking;
  std::set<unsigned> high;
  bool lost = false;  // an insert into `high` failed: the invariant no longer holds

  void Note(unsigned key) noexcept {
    if (key < floor || lost) return;
    try {
      high.insert(key);
    } catch (const std::bad_alloc&) {
      lost = true;
    }
  }

  // Whether a truncate at `limit` can have nothing to drop.
  bool NothingAtOrAbove(unsigned limit) const {
    return !lost && limit >= floor && (high.empty() || *high.rbegin() < limit);
  }
};

WrappedCache* Wrapped(sqlite3_pcache* cache) { return reinterpret_cast<WrappedCache*>(cache); }

int Init(void* arg) { return inner_methods.xInit ? inner_methods.xInit(arg) : SQLITE_OK; }

void Shutdown(void* arg) {
  if (inner_methods.xShutdown) inner_methods.xShutdown(arg);
}

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = inner_methods.xCreate(page_size, extra_size, purgeable);
  if (inner == nullptr) return nullptr;
  auto* cache = new (std::nothrow) WrappedCache;
  if (cache == nullptr) {
    inner_methods.xDestroy(inner);
    return nullptr;
  }
  cache->inner = inner;
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void Cachesize(sqlite3_pcache* cache, int pages) {
  inner_methods.xCachesize(Wrapped(cache)->inner, pages);
}

int Pagecount(sqlite3_pcache* cache) { return inner_methods.xPagecount(Wrapped(cache)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* cache, unsigned key, int create) {
  WrappedCache* wrapped = Wrapped(cache);
  sqlite3_pcache_page* page = inner_methods.xFetch(wrapped->inner, key, create);
  if (page != nullptr) wrapped->Note(key);
  return page;
}

void Unpin(sqlite3_pcache* cache, sqlite3_pcache_page* page, int discard) {
  inner_methods.xUnpin(Wrapped(cache)->inner, page, discard);
}

void Rekey(sqlite3_pcache* cache, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  WrappedCache* wrapped = Wrapped(cache);
  inner_methods.xRekey(wrapped->inner, page, old_key, new_key);
  if (old_key >= wrapped->floor) wrapped->high.erase(old_key);
  wrapped->Note(new_key);
}

void Truncate(sqlite3_pcache* cache, unsigned limit) {
  WrappedCache* wrapped = Wrapped(cache);
  if (wrapped->NothingAtOrAbove(limit)) {
    skipped.fetch_add(1, std::memory_order_relaxed);
  } else {
    inner_methods.xTruncate(wrapped->inner, limit);
    passed_on.fetch_add(1, std::memory_order_relaxed);
  }
  // No page at or above `limit` is left. A commit's limit is the database's size + 1, so from
  // here on only pages past the end are tracked; a clear (limit 1) stops tracking until the
  // next commit.
  wrapped->high.clear();
  wrapped->lost = false;
  wrapped->floor = limit > 1 ? limit : kNotTracking;
}

void Destroy(sqlite3_pcache* cache) {
  WrappedCache* wrapped = Wrapped(cache);
  inner_methods.xDestroy(wrapped->inner);
  delete wrapped;
}

void Shrink(sqlite3_pcache* cache) { inner_methods.xShrink(Wrapped(cache)->inner); }

}  // namespace

bool SqlitePageCache::Install() {
  if (installed.load()) return true;
  sqlite3_pcache_methods2 current{};
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &current) != SQLITE_OK) return false;
  if (current.xCreate == nullptr || current.xTruncate == nullptr) return false;
  inner_methods = current;
  sqlite3_pcache_methods2 wrapper{};
  wrapper.iVersion = 1;
  wrapper.pArg = current.pArg;
  wrapper.xInit = Init;
  wrapper.xShutdown = Shutdown;
  wrapper.xCreate = Create;
  wrapper.xCachesize = Cachesize;
  wrapper.xPagecount = Pagecount;
  wrapper.xFetch = Fetch;
  wrapper.xUnpin = Unpin;
  wrapper.xRekey = Rekey;
  wrapper.xTruncate = Truncate;
  wrapper.xDestroy = Destroy;
  wrapper.xShrink = Shrink;
  if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper) != SQLITE_OK) return false;
  installed.store(true);
  return true;
}

bool SqlitePageCache::Installed() { return installed.load(); }

SqlitePageCache::Counts SqlitePageCache::Totals() {
  return {passed_on.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed)};
}

}  // namespace countersign
