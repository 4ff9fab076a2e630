#include "http/access_log.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace countersign {
namespace {

constexpr std::string_view kHidden = "***";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether a query parameter's value may be a credential, judged by its (still encoded) name.
bool IsSecretName(std::string_view name) {
  const std::string lower = Lower(name);
  static constexpr std::array<std::string_view, 7> kParts = {"token", "key",  "secret", "sig",
                                                             "pass",  "auth", "cred"};
  for (std::string_view part : kParts) {
    if (lower.find(part) != std::string::npos) return true;
  }
  // OpenID Connect's callback: the authorization code and the state that binds it.
  return lower == "code" || lower == "state";
}

// Log lines are one line each: control characters (a raw CR or LF cannot reach here through
// Beast's parser, but a tab can) and non-ASCII bytes are shown escaped.
void AppendPrintable(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("%{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

std::string AccessLog::RedactedTarget(std::string_view target) {
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string out;
  out.reserve(target.size());
  if (path.starts_with("/l/")) {
    out += "/l/";
    out += kHidden;
  } else {
    AppendPrintable(out, path);
  }
  if (question == std::string_view::npos) return out;
  out.push_back('?');
  std::string_view query = target.substr(question + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const size_t equals = pair.find('=');
    const std::string_view name = pair.substr(0, equals);
    AppendPrintable(out, name);
    if (equals != std::string_view::npos) {
      out.push_back('=');
      if (IsSecretName(name)) {
        out += kHidden;
      } else {
        AppendPrintable(out, pair.substr(equals + 1));
      }
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

std::string AccessLog::Line(std::string_view method, std::string_view target, unsigned status,
                            std::string_view principal, std::chrono::nanoseconds took) {
  std::string who;
  AppendPrintable(who, principal);
  const double ms = std::chrono::duration<double, std::milli>(took).count();
  return fmt::format("{} {} {} {} {:.1f}ms", method, target, status, who.empty() ? "-" : who, ms);
}

}  // namespace countersign
