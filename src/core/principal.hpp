// Principal: an authenticated identity and what it may do.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace countersign {

// agent: create, read own, wait, cancel own. approver: read the tenant, decide.
// admin: everything within its tenant, plus token management.
enum class Role { kAgent, kApprover, kAdmin };

const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view text);

struct Principal {
  std::string id;  // "tok_…"
  std::string name;
  Role role = Role::kAgent;
  std::string tenant = "default";
  std::vector<std::string> groups;
  std::string token_sha256;
  TimePoint created_at;
  std::optional<TimePoint> revoked_at;
};

}  // namespace countersign
