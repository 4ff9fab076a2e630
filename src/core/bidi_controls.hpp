// ShowBidiControls: bidirectional control characters made visible, for text a person reads in
// chat, mail and on pages. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

// `text` with every bidirectional control character (the embeddings and overrides U+202A to
// U+202E, the isolates U+2066 to U+2069, the marks U+200E, U+200F and U+061C) replaced by its
// name in brackets ("[RLO]"), so a title cannot reorder what an approver reads
// ("invoice\u202Efdp.exe" shows as "invoice[RLO]fdp.exe"). Everything else is kept.
std::string ShowBidiControls(std::string_view text);

}  // namespace countersign
