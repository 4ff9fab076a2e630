// TokenRegistry: creating, listing and revoking API tokens (admins only).
//
// A token is shown once, when created; the store keeps its SHA-256. Creation and revocation
// are audit events ("token.created", "token.revoked") in the same transaction. Thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/actor.hpp"
#include "core/clock.hpp"
#include "core/id_generator.hpp"
#include "core/principal.hpp"
#include "store/store.hpp"

namespace countersign {

struct NewToken {
  std::string name;
  Role role = Role::kAgent;
  std::string tenant;  // empty: the creating admin's tenant
  std::vector<std::string> groups;
};

struct IssuedToken {
  Principal principal;
  std::string token;  // the secret, shown once
};

class TokenRegistry {
 public:
  TokenRegistry(Store& store, Clock& clock, IdGenerator& ids)
      : store_(store), clock_(clock), ids_(ids) {}

  void Create(const Actor& actor, NewToken input, std::function<void(Result<IssuedToken>)> done);
  Result<std::vector<Principal>> List(const Actor& actor);
  void Revoke(const Actor& actor, std::string id, std::function<void(Status)> done);
  // Called (on the store's writer thread) after each revocation is durable, before the
  // revoking caller hears of it; the server uses it to drop cached authentications.
  void OnRevoked(std::function<void()> hook) { on_revoked_ = std::move(hook); }

  // True when the default tenant has no active admin: first start, or every admin revoked.
  Result<bool> NeedsBootstrapAdmin();
  // Records `token` (made by GenerateToken) as an admin of the default tenant. The caller
  // saves the secret somewhere durable first, so a crash can never leave an admin nobody
  // holds the token of. Blocking; call before serving.
  Status BootstrapAdmin(const std::string& token);

 private:
  Store& store_;
  Clock& clock_;
  IdGenerator& ids_;
  std::function<void()> on_revoked_;
};

}  // namespace countersign
