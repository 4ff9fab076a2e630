#include "cli/sse_event_reader.hpp"

namespace countersign {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

SseEventReader::SseEventReader(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

std::vector<std::string> SseEventReader::Feed(std::string_view bytes) {
  std::vector<std::string> events;
  for (const char c : bytes) {
    if (!started_) {
      // A stream may start with a byte order mark, which is not part of the first line.
      if (c == kByteOrderMark[bom_bytes_]) {
        if (++bom_bytes_ == kByteOrderMark.size()) started_ = true;
        continue;
      }
      started_ = true;
      line_.append(kByteOrderMark.substr(0, bom_bytes_));  // they were text after all
      line_bytes_ += bom_bytes_;
    }
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      EndLine(events);
      continue;
    }
    ++line_bytes_;
    if (too_big_) continue;
    if (line_.size() >= max_event_bytes_) {
      too_big_ = true;
      line_.clear();
      data_.clear();
      continue;
    }
    line_.push_back(c);
  }
  return events;
}

void SseEventReader::EndLine(std::vector<std::string>& events) {
  const bool blank = line_bytes_ == 0;
  line_bytes_ = 0;
  if (!blank) {
    if (!too_big_) Field(line_);
    line_.clear();
    return;
  }
  // A blank line dispatches the event.
  if (too_big_) {
    ++dropped_;
  } else if (!data_.empty() && (type_.empty() || type_ == "message")) {
    data_.pop_back();  // the "\n" after the last data line
    if (!data_.empty()) events.push_back(std::move(data_));
  }
  data_.clear();
  type_.clear();
  too_big_ = false;
}

void SseEventReader::Field(std::string_view line) {
  if (line.front() == ':') return;  // a comment
  std::string_view name = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      too_big_ = true;
      data_.clear();
      return;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    type_ = std::string(value);
  }
}

}  // namespace countersign
