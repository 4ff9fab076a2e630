// SseEventReader: the messages of a text/event-stream body, fed in pieces as they arrive (the
// HTML standard's event stream interpretation, as MCP's Streamable HTTP uses it).
//
// Feed() takes the next bytes and returns the data of each event they complete, in order: the
// event's `data:` lines joined with "\n". Only events of the default type ("message", or no
// `event:` field) are returned, and only when their data is not empty (MCP's priming events
// and keep-alives carry none). Comments, `id:` and `retry:` are ignored. Lines end with CRLF,
// LF or CR. An event (or a line) that grows past `max_event_bytes` is dropped whole and
// counted in dropped(); the events after it are read as usual. An event cut off by the end of
// the stream is never returned. Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace countersign {

class SseEventReader {
 public:
  explicit SseEventReader(std::size_t max_event_bytes);

  std::vector<std::string> Feed(std::string_view bytes);

  std::size_t dropped() const { return dropped_; }

 private:
  void EndLine(std::vector<std::string>& events);
  void Field(std::string_view line);

  const std::size_t max_event_bytes_;
  std::string line_;
  std::size_t line_bytes_ = 0;  // counted even when the line is not kept
  bool after_cr_ = false;       // the last byte was a CR: a LF next ends no second line
  bool started_ = false;        // past a leading byte order mark, if any
  std::size_t bom_bytes_ = 0;   // how much of one has been read
  std::string data_;
  std::string type_;
  bool too_big_ = false;  // the event being read is over the limit: dropped at its end
  std::size_t dropped_ = 0;
};

}  // namespace countersign
