// Authenticator: turns a request's credentials into an Actor, or says why it cannot.
#pragma once

#include <optional>
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
  // Authenticate() when it can answer without waiting for the store (from memory, or a
  // header it refuses outright); nullopt when only Authenticate() can tell. A network thread
  // calls this and, on nullopt, runs Authenticate() on the read executor.
  virtual std::optional<Result<Actor>> AuthenticateFromMemory(std::string_view authorization) {
    return Authenticate(authorization);
  }
};

}  // namespace countersign
