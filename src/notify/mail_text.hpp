// Pieces of Internet mail (RFC 5322, MIME: RFC 2045 and RFC 2047) for the email channel:
// address and message-id checks, header encoding, base64 bodies, dates.
//
// Everything that goes into a header passes through here, so no value can end a header early
// or add one of its own (header injection): an address or a message id holding CR, LF, a
// space or any other control character is refused, and free text (a subject, a display
// name) has its control characters replaced by spaces before it is encoded. Only plain ASCII
// addresses are accepted (no SMTPUTF8). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace countersign {

struct Mailbox {
  std::string display_name;  // UTF-8 text; may be empty
  std::string address;       // an addr-spec that IsMailAddress() accepts
};

// Whether `address` is a plain addr-spec countersign sends to: "local@domain" in printable
// ASCII, a local part of 1-64 atext characters and inner single dots, a domain of 1-253
// characters in dot-separated labels of letters, digits and inner hyphens; no spaces,
// quotes, control characters or second '@'.
bool IsMailAddress(std::string_view address);

// "approvals@example.com", "Countersign <approvals@example.com>" or
// "\"Approvals, Ops\" <approvals@example.com>"; nullopt when the address is not acceptable or
// the display name holds a control character, '<', '>' or (unquoted) '"'.
std::optional<Mailbox> ParseMailbox(std::string_view text);

// The mailbox as a header value: the bare address, or the display name (as a quoted string,
// or RFC 2047 encoded-words when it is not printable ASCII) and the address in <>.
std::string FormatMailbox(const Mailbox& mailbox);

// Whether `id` is a msg-id "<left@right>" of printable ASCII with no spaces, no other '<' or
// '>' and exactly one '@', at most 250 characters.
bool IsMessageId(std::string_view id);

// `text` as an unstructured header value (Subject): control characters become spaces;
// printable ASCII that fits the line (78 characters with `name_length`, the length of
// "Subject: ") and holds no "=?" stays as it is; anything else becomes RFC 2047 "B"
// encoded-words of UTF-8, at most 75 characters each, never splitting a character, joined
// by folding (CRLF and a space).
std::string EncodeHeaderText(std::string_view text, size_t name_length);

// Base64 (RFC 2045) in lines of at most 76 characters, each ending in CRLF.
std::string Base64Lines(std::string_view bytes);

// The date as RFC 5322 writes it, in UTC: "Sat, 21 Nov 2026 10:00:00 +0000".
std::string MailDate(TimePoint t);

}  // namespace countersign
