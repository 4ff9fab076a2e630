#include "server/open_file_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace countersign {

uint64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot read the open file limit: {}", std::strerror(errno));
    return 1024;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::info("open file limit raised from {} to {}", before, limit.rlim_cur);
    } else {
      spdlog::warn("cannot raise the open file limit from {}: {}", before, std::strerror(errno));
      limit.rlim_cur = before;
    }
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

uint64_t DefaultMaxConnections(uint64_t open_file_limit, uint64_t reserve) {
  if (open_file_limit <= reserve) return std::max<uint64_t>(16, open_file_limit / 2);
  return std::max<uint64_t>(16, std::min<uint64_t>(open_file_limit - reserve, 1000000));
}

}  // namespace countersign
