// Authenticator: turns a request's credentials into an Actor, or says why it cannot.
#pragma once

#include <string_view>

#include "auth/actor.hpp"
#include "core/result.hpp"

namespace countersign {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // `authorization` is the raw Authorization header (empty when absent). Errors are
  // kUnauthorized with a message safe to show the caller, or kUnavailable when the store
  // cannot answer.
  virtual Result<Actor> Authenticate(std::string_view authorization) = 0;
};

}  // namespace countersign
