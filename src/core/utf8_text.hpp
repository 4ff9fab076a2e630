// ValidUtf8: text from outside (a model's answer, a server's error body) made safe to store
// and to put in JSON: every byte sequence that is not UTF-8 becomes U+FFFD, and the text is
// cut to at most `max_bytes` on a character boundary, ending in "…" when it was cut. Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace countersign {

std::string ValidUtf8(std::string_view text, size_t max_bytes);

}  // namespace countersign
