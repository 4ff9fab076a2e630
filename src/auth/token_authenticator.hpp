// TokenAuthenticator: "Authorization: Bearer <token>" checked against the principals table.
// Thread-safe (the store is).
#pragma once

#include "auth/authenticator.hpp"
#include "store/store.hpp"

namespace countersign {

class TokenAuthenticator final : public Authenticator {
 public:
  explicit TokenAuthenticator(Store& store) : store_(store) {}

  Result<Actor> Authenticate(std::string_view authorization) override;

 private:
  Store& store_;
};

}  // namespace countersign
