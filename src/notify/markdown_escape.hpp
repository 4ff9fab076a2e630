// Markdown made inert for chat cards that render a Markdown subset (Teams Adaptive Cards and
// MessageCard titles), so a title like "[Approve here](https://evil.example) **URGENT**" shows
// as typed instead of as a disguised link in bold.
//
// CommonMark lets a backslash escape any ASCII punctuation, and renderers hide it. Escaped
// anywhere in a line: the characters that open emphasis, code, links, images, autolinks and
// raw HTML (\ * _ ` ~ [ ] < >). Escaped at the start of a line (after spaces): the markers of
// a heading, a quote or a list (# > - + and the dot or parenthesis after a number). Pure;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

std::string EscapeCommonMark(std::string_view text);

}  // namespace countersign
