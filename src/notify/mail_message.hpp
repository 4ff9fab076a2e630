// MailMessage: one email as countersign sends it (RFC 5322 with MIME), a multipart/alternative
// of a plain-text part and an HTML part, both UTF-8 in base64.
//
// Serialize() checks every header value before writing it (see mail_text.hpp): addresses and
// message ids must be well-formed (a CR, LF or space in one is an error, never written), the
// subject is encoded, and the extra headers' names and values must be printable ASCII. The
// bodies are base64, so nothing in them can end a part or the header block; the boundary
// holds '_', which base64 never does. The same fields give the same bytes. A plain value
// type; safe to copy.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "notify/mail_text.hpp"

namespace countersign {

struct MailMessage {
  Mailbox from;
  std::string to;           // an addr-spec
  std::string subject;      // UTF-8 text
  std::string message_id;   // "<left@right>"
  std::string in_reply_to;  // "<left@right>" of the message this one answers, or empty
  TimePoint date;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // e.g. Auto-Submitted
  std::string text;  // the text/plain part, UTF-8 ("\n" line ends become CRLF)
  std::string html;  // the text/html part, UTF-8

  // The message with CRLF line ends, ready for SMTP DATA; kInvalid naming the field when a
  // header value is not acceptable.
  Result<std::string> Serialize() const;
};

}  // namespace countersign
