#include "notify/approver_principals.hpp"

#include <algorithm>

namespace countersign {
namespace {

constexpr std::string_view kGroupPrefix = "group:";

}  // namespace

std::vector<std::string> ExpandApprovers(const std::vector<std::string>& approvers,
                                         const GroupMembers& group_members) {
  std::vector<std::string> out;
  const auto add = [&out](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const auto& a : approvers) {
    if (!a.starts_with(kGroupPrefix)) {
      add(a);
    } else if (group_members) {
      for (const auto& member : group_members(std::string_view(a).substr(kGroupPrefix.size()))) {
        add(member);
      }
    }
  }
  return out;
}

}  // namespace countersign
