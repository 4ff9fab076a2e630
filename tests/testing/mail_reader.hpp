// MailReader: reads back the messages the email channel writes, for unit tests: header lines
// (continuations kept), header values with RFC 2047 "B" words of UTF-8 decoded, and the two
// base64 parts of a multipart/alternative. It understands only what countersign writes
// (which is the point: a test that reads what it expects). Header-only; pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.hpp"

namespace countersign::testing {

// Standard base64 with line breaks, decoded; nullopt when it is not base64.
inline std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string url;
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '=') continue;
    url += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return Base64UrlDecode(url);
}

// The text a header value stands for: encoded-words decoded, the folding between them dropped.
inline std::string DecodeHeader(std::string_view value) {
  std::string out;
  size_t pos = 0;
  while (pos < value.size()) {
    if (value.substr(pos, 10) == "=?UTF-8?B?") {
      const size_t end = value.find("?=", pos + 10);
      if (end == std::string_view::npos) return out + std::string(value.substr(pos));
      out += DecodeBase64(value.substr(pos + 10, end - pos - 10)).value_or("<bad base64>");
      pos = end + 2;
      while (pos < value.size() && (value[pos] == '\r' || value[pos] == '\n' || value[pos] == ' '))
        ++pos;
    } else {
      out += value[pos++];
    }
  }
  return out;
}

struct ReadMail {
  std::vector<std::string> header_lines;       // continuations joined with their CRLF
  std::map<std::string, std::string> headers;  // raw values (the last of a repeated name)
  std::string text;                            // the text/plain part, decoded
  std::string html;                            // the text/html part, decoded

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : DecodeHeader(it->second);
  }
};

inline ReadMail ReadMailMessage(const std::string& message) {
  ReadMail out;
  size_t pos = 0;
  for (;;) {
    const size_t end = message.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = message.substr(pos, end - pos);
    if ((line[0] == ' ' || line[0] == '\t') && !out.header_lines.empty()) {
      out.header_lines.back() += "\r\n" + line;
    } else {
      out.header_lines.push_back(line);
    }
    pos = end + 2;
  }
  for (const auto& line : out.header_lines) {
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) out.headers[line.substr(0, colon)] = line.substr(colon + 2);
  }
  const std::string type = out.headers["Content-Type"];
  const size_t b = type.find("boundary=\"");
  if (b == std::string::npos) return out;
  const std::string boundary = type.substr(b + 10, type.find('"', b + 10) - b - 10);
  const std::string delimiter = "--" + boundary;
  size_t part = message.find(delimiter + "\r\n");
  while (part != std::string::npos) {
    const size_t begin = part + delimiter.size() + 2;
    const size_t next = message.find("\r\n" + delimiter, begin);
    if (next == std::string::npos) break;
    const std::string body = message.substr(begin, next - begin);
    const size_t blank = body.find("\r\n\r\n");
    const std::string part_headers = body.substr(0, blank);
    const std::string decoded =
        DecodeBase64(blank == std::string::npos ? "" : body.substr(blank + 4)).value_or("");
    if (part_headers.find("text/plain") != std::string::npos) out.text = decoded;
    if (part_headers.find("text/html") != std::string::npos) out.html = decoded;
    part =
        message.compare(next + 2 + delimiter.size(), 2, "--") == 0 ? std::string::npos : next + 2;
  }
  return out;
}

}  // namespace countersign::testing
