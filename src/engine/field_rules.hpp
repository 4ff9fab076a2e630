// Field rules: the limits and character sets the engine checks on what callers send.
//
// Shared by the request builder, grants, decisions and notes, so a field means the same
// everywhere. Pure functions and constants; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace countersign {

constexpr size_t kMaxTitleBytes = 512;
constexpr size_t kMaxChoices = 10;
constexpr size_t kMaxApprovers = 100;
constexpr int64_t kMaxQuorum = 100;
constexpr size_t kMaxShortText = 128;  // a name, a session, a notify entry, a note's type
constexpr size_t kMaxCommentBytes = 4000;
constexpr size_t kMaxAnswerBytes = 10000;
constexpr size_t kMaxUrlBytes = 2048;

// [A-Za-z0-9_.:/-]{1,128}
bool IsValidAction(std::string_view action);
// [A-Za-z0-9_-]{1,64}
bool IsValidChoiceId(std::string_view id);
// Whether `s` holds an ASCII control character (below 0x20, or DEL).
bool HasControlChars(std::string_view s);

}  // namespace countersign
