#include "notify/mail_message.hpp"

#include <algorithm>

#include "core/sha256.hpp"

namespace countersign {
namespace {

bool IsHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != ':';
  });
}

bool IsHeaderValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

// Normalizes line ends to CRLF, so a body is the same whatever the renderer used.
std::string CrLf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

void Part(std::string& out, std::string_view boundary, std::string_view type,
          std::string_view body) {
  out += "--";
  out += boundary;
  out += "\r\nContent-Type: ";
  out += type;
  out += "; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(CrLf(body));
}

}  // namespace

Result<std::string> MailMessage::Serialize() const {
  if (!IsMailAddress(from.address)) return Error::Invalid("email: bad From address");
  if (!IsMailAddress(to)) return Error::Invalid("email: bad To address");
  if (!IsMessageId(message_id)) return Error::Invalid("email: bad Message-ID");
  if (!in_reply_to.empty() && !IsMessageId(in_reply_to)) {
    return Error::Invalid("email: bad In-Reply-To");
  }
  for (const auto& [name, value] : extra_headers) {
    if (!IsHeaderName(name) || !IsHeaderValue(value)) {
      return Error::Invalid("email: bad header '" + name + "'");
    }
  }
  const std::string boundary = "=_countersign_" + Sha256Hex(message_id).substr(0, 24);

  std::string out;
  out.reserve(text.size() * 2 + html.size() * 2 + 1024);
  const auto header = [&out](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  header("Message-ID", message_id);
  header("Date", MailDate(date));
  header("From", FormatMailbox(from));
  header("To", to);
  header("Subject", EncodeHeaderText(subject, 9));
  if (!in_reply_to.empty()) {
    header("In-Reply-To", in_reply_to);
    header("References", in_reply_to);
  }
  for (const auto& [name, value] : extra_headers) header(name, value);
  header("MIME-Version", "1.0");
  header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
  out += "\r\n";
  Part(out, boundary, "text/plain", text);
  Part(out, boundary, "text/html", html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace countersign
