// Reads the [ui.oidc] table: OpenID Connect sign-in for the web inbox (docs/inbox.md,
// docs/configuration.md). Without the table the inbox signs in with tokens only.
//
//   [ui.oidc]
//     issuer = "https://login.example.com"   https; http only for a loopback host
//     client_id = "countersign"
//     client_secret = "env:IDP_SECRET"       or "file:/path", or the literal; absent: the
//                                            COUNTERSIGN_OIDC_CLIENT_SECRET variable
//     client_auth = "client_secret_basic"    or "client_secret_post"
//     scopes = ["openid", "profile", "email"]          must include "openid"
//     principal_claim = "email"   groups_claim = "groups"
//     role = "approver"           or "admin"; never "agent"
//     tenant = "default"
//     allowed_groups = ["approvers"]         optional: sign-in only for these groups
//
// Errors name the file, line and key. Read at start-up only. Pure function; thread-safe.
#pragma once

#include <optional>
#include <string>

#include <toml++/toml.h>

#include "auth/oidc_settings.hpp"
#include "core/result.hpp"

namespace countersign {

// The variable a client secret comes from when the table has no client_secret.
inline constexpr char kOidcClientSecretVariable[] = "COUNTERSIGN_OIDC_CLIENT_SECRET";

// nullopt when the file has no [ui.oidc] table.
Result<std::optional<OidcSettings>> ReadOidcTable(const toml::table& root, const std::string& file);

}  // namespace countersign
