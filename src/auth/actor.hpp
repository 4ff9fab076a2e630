// Actor: who is calling the engine, as the authenticator (or, with auth off, the body) says.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/principal.hpp"

namespace countersign {

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
};

}  // namespace countersign
