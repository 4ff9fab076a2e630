// LineWriter: one MCP message per line to a stdio stream, from any thread.
//
// Write() appends "\n" and flushes, under a mutex, so lines from several threads never
// interleave. A reader that has gone away makes writes fail silently: there is nobody left to
// tell. ExitHolding() takes the mutex for good, flushes and ends the process, so no line is
// cut by the exit. Thread-safe; the stream must outlive the writer.
#pragma once

#include <cstdio>
#include <string_view>

#include "core/mutex.hpp"

namespace countersign {

class LineWriter {
 public:
  explicit LineWriter(std::FILE* output) : output_(output) {}
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  void Write(std::string_view line);

  // Flushes and ends the process with `status` (std::_Exit, after spdlog's shutdown).
  [[noreturn]] void ExitHolding(int status);

 private:
  Mutex mu_;
  std::FILE* const output_ CS_PT_GUARDED_BY(mu_);
};

}  // namespace countersign
