#include "cli/line_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace countersign {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

}  // namespace

LineReader::LineReader(std::size_t max_line_bytes, LineSink on_line, OversizedSink on_oversized)
    : max_line_bytes_(max_line_bytes),
      on_line_(std::move(on_line)),
      on_oversized_(std::move(on_oversized)) {}

void LineReader::Read(int fd) const {
  std::string line;
  bool oversized = false;  // dropping the rest of a line over the limit
  char chunk[kReadChunk];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    std::string_view data(chunk, static_cast<std::size_t>(got));
    while (!data.empty()) {
      const auto newline = data.find('\n');
      const std::string_view piece = data.substr(0, newline);
      if (!oversized) {
        if (line.size() + piece.size() > max_line_bytes_) {
          oversized = true;
          line.clear();
          line.shrink_to_fit();
        } else {
          line.append(piece);
        }
      }
      if (newline == std::string_view::npos) break;
      data.remove_prefix(newline + 1);
      if (oversized) {
        on_oversized_();
        oversized = false;
      } else {
        on_line_(line);
      }
      line.clear();
    }
  }
  if (!oversized && !line.empty()) on_line_(line);
}

}  // namespace countersign
