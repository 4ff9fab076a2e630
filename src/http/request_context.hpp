// RequestContext: one HTTP request as a handler sees it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "auth/actor.hpp"
#include "http/beast.hpp"

namespace countersign {

struct RequestContext {
  const HttpRequest& request;
  std::map<std::string, std::string, std::less<>> path;   // {id} and friends, from the route
  std::map<std::string, std::string, std::less<>> query;  // decoded query parameters
  Actor actor;                                            // set once authenticated

  std::string_view Query(std::string_view key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string_view() : std::string_view(it->second);
  }
};

}  // namespace countersign
