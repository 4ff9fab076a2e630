// JsonBodyMemo: the JSON body of requests as GET /v1/requests/{id} answers them, kept for the
// request objects the gateway's read cache hands out again and again.
//
// Keyed by the request object itself: a Request behind a shared pointer is immutable, so its
// body never changes. An entry is used only while its weak pointer still locks to the very
// object asked about; any other object (a newer state of the request is a new object) gets its
// body built afresh. Bounded: full, it starts over empty. Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/mutex.hpp"
#include "core/request.hpp"

namespace countersign {

class JsonBodyMemo {
 public:
  explicit JsonBodyMemo(size_t capacity) : capacity_(capacity) {}

  // RequestToJson(*request), serialised, with the trailing newline of every JSON answer.
  std::shared_ptr<const std::string> Body(const std::shared_ptr<const Request>& request);

 private:
  struct Entry {
    std::weak_ptr<const Request> request;
    std::shared_ptr<const std::string> body;
  };

  const size_t capacity_;
  Mutex mu_;
  std::unordered_map<const Request*, Entry> entries_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
