// RequestCache: requests read recently, so that reading one again skips the store.
//
// Readers fill it and commits empty it, and it never holds a version older than the store's
// latest committed one:
// - Forget() runs from the store's commit listener, which the store calls after a batch
//   commits and before any of its writers hears back. It drops every request the batch's
//   events name and moves the generation on.
// - A reader takes Generation() before it reads the store, and Put() keeps what it read only if
//   the generation has not moved since: a commit that may have overtaken the read refuses it.
//
// Bounded: past `capacity` requests an arbitrary one is dropped for each new one. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "core/mutex.hpp"
#include "core/request.hpp"

namespace countersign {

class RequestCache {
 public:
  using RequestPtr = std::shared_ptr<const Request>;

  explicit RequestCache(size_t capacity) : capacity_(capacity) {}

  uint64_t Generation() const;
  // The cached request `id` of `tenant`, or null.
  RequestPtr Find(std::string_view tenant, std::string_view id) const;
  // Keeps `request`, read from the store after Generation() returned `generation`, unless a
  // commit has happened since.
  void Put(uint64_t generation, RequestPtr request);
  // A batch committed with `events`: drops the requests they name, or every request when one
  // is a retention pass's record (kRetentionPrunedEvent).
  void Forget(const std::vector<Event>& events);

  size_t size() const;

 private:
  static std::string Key(std::string_view tenant, std::string_view id);

  const size_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, RequestPtr> requests_ CS_GUARDED_BY(mu_);
  uint64_t generation_ CS_GUARDED_BY(mu_) = 0;
};

}  // namespace countersign
