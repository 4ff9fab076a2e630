#include "cli/line_writer.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"

namespace countersign {

void LineWriter::Write(std::string_view line) {
  MutexLock lock(mu_);
  std::fwrite(line.data(), 1, line.size(), output_);
  std::fputc('\n', output_);
  std::fflush(output_);
}

void LineWriter::ExitHolding(int status) {
  mu_.Lock();
  std::fflush(output_);
  spdlog::shutdown();
  std::_Exit(status);
}

}  // namespace countersign
