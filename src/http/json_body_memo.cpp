#include "http/json_body_memo.hpp"

#include "core/mutex_lock.hpp"
#include "core/request_json.hpp"

namespace countersign {

std::shared_ptr<const std::string> JsonBodyMemo::Body(
    const std::shared_ptr<const Request>& request) {
  {
    MutexLock lock(mu_);
    auto it = entries_.find(request.get());
    if (it != entries_.end() && it->second.request.lock() == request) return it->second.body;
  }
  std::string text;
  text.reserve(2048);
  AppendRequestJson(*request, text);
  text.push_back('\n');
  auto body = std::make_shared<const std::string>(std::move(text));
  MutexLock lock(mu_);
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.insert_or_assign(request.get(), Entry{request, body});
  return body;
}

}  // namespace countersign
