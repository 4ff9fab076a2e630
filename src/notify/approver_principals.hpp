// ExpandApprovers: the people a request's approvers list names, for everything that addresses
// them one by one (email messages, one-click links handed out by the API and in webhooks).
//
// Each "group:NAME" entry is replaced by the members `group_members` gives for NAME (the
// config's [groups]); other entries are principals. Token groups are not config groups, so a
// group only tokens carry expands to nobody here, though its members may still decide. Pure;
// thread-safe when `group_members` is.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace countersign {

// The principals of a config group (empty for an unknown one).
using GroupMembers = std::function<std::vector<std::string>(std::string_view group)>;

// `approvers` with every group replaced by its members, in order, each principal once. With
// no `group_members`, groups expand to nobody.
std::vector<std::string> ExpandApprovers(const std::vector<std::string>& approvers,
                                         const GroupMembers& group_members);

}  // namespace countersign
