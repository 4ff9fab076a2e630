// Actor: who is calling the engine, as the authenticator (or, with auth off, the body) says.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/principal.hpp"

namespace countersign {

// Admins of this tenant run the installation: they manage every tenant's tokens and check
// the installation-wide audit chain. Admins of other tenants manage only their own.
inline constexpr char kOperatorTenant[] = "default";

struct Actor {
  std::string name;
  Role role = Role::kAgent;
  std::string tenant = "default";
  std::vector<std::string> groups;

  bool InGroup(const std::string& group) const {
    return std::find(groups.begin(), groups.end(), group) != groups.end();
  }
  bool CanReadTenant() const { return role != Role::kAgent; }
  bool CanDecide() const { return role != Role::kAgent; }
  bool CanCreate() const { return role != Role::kApprover; }
  bool IsOperator() const { return role == Role::kAdmin && tenant == kOperatorTenant; }
};

}  // namespace countersign
