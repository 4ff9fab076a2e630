#include "notify/slack_mrkdwn.hpp"

#include "core/bidi_controls.hpp"
#include "notify/chat_text.hpp"

namespace countersign {

std::string EscapeMrkdwn(std::string_view raw) {
  const std::string text = ShowBidiControls(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TruncateMrkdwn(const std::string& escaped, size_t max) {
  std::string cut = TruncateText(escaped, max);
  if (cut.size() == escaped.size()) return cut;
  std::string_view kept(cut.data(), cut.size() - kEllipsis.size());
  const size_t amp = kept.rfind('&');
  if (amp != std::string_view::npos && kept.find(';', amp) == std::string_view::npos) {
    return std::string(kept.substr(0, amp)) + std::string(kEllipsis);
  }
  return cut;
}

std::string Mrkdwn(std::string_view raw, size_t max) {
  return TruncateMrkdwn(EscapeMrkdwn(raw), max);
}

}  // namespace countersign
