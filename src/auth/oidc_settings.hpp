// OidcSettings: how the web inbox signs people in with an OpenID Connect provider, as the
// config's [ui.oidc] table gives it (config/oidc_config.hpp reads and checks it;
// docs/inbox.md, "Sign in with OpenID Connect"). A plain value; safe to copy between threads.
#pragma once

#include <string>
#include <vector>

#include "core/principal.hpp"

namespace countersign {

enum class OidcClientAuth { kSecretBasic, kSecretPost };

struct OidcSettings {
  std::string issuer;  // https (http only on a loopback host), exactly as the provider says it
  std::string client_id;
  std::string client_secret;
  OidcClientAuth client_auth = OidcClientAuth::kSecretBasic;
  std::vector<std::string> scopes = {"openid", "profile", "email"};
  std::string principal_claim = "email";
  std::string groups_claim = "groups";
  Role role = Role::kApprover;  // never kAgent
  std::string tenant = "default";
  // Empty: anyone the provider signs in; else only members of one of these groups.
  std::vector<std::string> allowed_groups;
};

}  // namespace countersign
