// OpenAuthenticator: auth off (loopback only). Every caller is an admin of the default
// tenant; handlers take the identity from the body (`requester`, `by`).
#pragma once

#include "auth/authenticator.hpp"

namespace countersign {

class OpenAuthenticator final : public Authenticator {
 public:
  Result<Actor> Authenticate(std::string_view) override {
    return Actor{"anonymous", Role::kAdmin, "default", {}};
  }
};

}  // namespace countersign
