// Slack's mrkdwn: user text made inert (&, < and > as entities, bidi controls shown) and cut to
// Slack's limits without leaving half an entity behind. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

std::string EscapeMrkdwn(std::string_view raw);
// Cuts escaped mrkdwn to `max` UTF-16 units without leaving half an entity ("&am…") behind.
std::string TruncateMrkdwn(const std::string& escaped, size_t max);
// User text as mrkdwn: escaped, then cut to `max`.
std::string Mrkdwn(std::string_view raw, size_t max);

}  // namespace countersign
