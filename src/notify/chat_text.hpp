// Text limits of chat platforms: counting and cutting UTF-8 text the way Slack and Teams
// count it.
//
// Chat APIs limit fields in "characters" as JavaScript counts them (UTF-16 code units), so a
// character outside the Basic Multilingual Plane (most emoji) counts two. Cutting never splits
// a UTF-8 sequence; a cut text ends in "…" (U+2026, one unit) and stays within the limit.
// Bytes that are not valid UTF-8 count one each and are never split further. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bidi_controls.hpp"
#include "core/request.hpp"

namespace countersign {

inline constexpr std::string_view kEllipsis = "\u2026";

// The byte length of the UTF-8 character starting at `pos` (1 for an invalid byte).
size_t Utf8CharBytes(std::string_view text, size_t pos);

// The length of one character's bytes in UTF-16 code units.
size_t Utf16Units(std::string_view character);

// The length of `text` in UTF-16 code units.
size_t TextLength(std::string_view text);

// `text` when it is at most `max_units` long; otherwise its longest prefix that, with "…"
// appended, is at most `max_units` long, plus "…". `max_units` 0 gives "".
std::string TruncateText(std::string_view text, size_t max_units);

// `raw` escaped by `escape` (which puts a backslash before what it escapes), within
// `max_units`: cut before escaping, and again after when the backslashes made it longer, never
// leaving a lone escaping backslash before the "…".
std::string TruncateEscaped(std::string_view raw, size_t max_units,
                            std::string (*escape)(std::string_view));

// A button's text for `choice`: its ChoiceMeaning::Caption() within `max_units`. The label is
// cut, never the outcome words after it ("Ship it… — approves"), unless the limit leaves no
// room for them.
std::string ChoiceButtonText(const Choice& choice, size_t max_units);

}  // namespace countersign
