// LineReader: newline-delimited messages read from a descriptor, as the MCP stdio transport
// frames them.
//
// Read() reads `fd` to its end and hands each line (without its "\n"; a trailing "\r" is the
// caller's to strip) to `on_line`. A line over `max_line_bytes` is dropped whole, without
// holding it in memory, and reported to `on_oversized` once its newline arrives. A last line
// without its newline still counts: the writer wrote it before closing. EINTR is retried; a
// read error ends the input like its end. Not thread-safe: one reader per descriptor.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace countersign {

class LineReader {
 public:
  using LineSink = std::function<void(std::string_view line)>;
  using OversizedSink = std::function<void()>;

  LineReader(std::size_t max_line_bytes, LineSink on_line, OversizedSink on_oversized);

  // Reads `fd` to its end (or a read error).
  void Read(int fd) const;

 private:
  std::size_t max_line_bytes_;
  LineSink on_line_;
  OversizedSink on_oversized_;
};

}  // namespace countersign
