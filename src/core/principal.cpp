#include "core/principal.hpp"

namespace countersign {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAgent:
      return "agent";
    case Role::kApprover:
      return "approver";
    case Role::kAdmin:
      return "admin";
  }
  return "agent";
}

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "agent") return Role::kAgent;
  if (text == "approver") return Role::kApprover;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

}  // namespace countersign
