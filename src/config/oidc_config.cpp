#include "config/oidc_config.hpp"

#include <algorithm>
#include <cstdlib>

#include "config/notify_config.hpp"
#include "config/server_config.hpp"
#include "config/toml_values.hpp"
#include "config/where.hpp"
#include "core/public_url.hpp"
#include "notify/outbound_policy.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxListItems = 100;
constexpr size_t kMaxItemBytes = 256;

Status CheckIssuer(const std::string& issuer, const std::string& where) {
  std::string_view base = issuer;
  if (base.ends_with('/')) base.remove_suffix(1);
  auto parsed = PublicUrl::Parse(base, where);
  if (!parsed.ok()) {
    return Error::Invalid(where + " must be an https URL with no query or fragment (" +
                          parsed.error().message + ")");
  }
  if (!parsed->https()) {
    const auto host = OutboundPolicy::HostOf(issuer);
    if (!host || !IsLoopbackHost(*host)) {
      return Error::Invalid(where + " must be an https URL (http only for a loopback host)");
    }
  }
  return Ok();
}

Result<std::vector<std::string>> ReadList(const toml::node& node, const std::string& where) {
  auto items = ReadStringList(node, where, false);
  if (!items.ok()) return items;
  if (items->empty()) return Error::Invalid(where + " must not be empty");
  if (items->size() > kMaxListItems) return Error::Invalid(where + " has over 100 items");
  for (const auto& item : *items) {
    if (item.size() > kMaxItemBytes) return Error::Invalid(where + " has an item over 256 bytes");
  }
  return items;
}

Status ReadKey(const std::string& key, const toml::node& value, const std::string& where,
               OidcSettings& out, bool& secret_given) {
  if (key == "scopes" || key == "allowed_groups") {
    auto items = ReadList(value, where);
    if (!items.ok()) return std::move(items).error();
    if (key == "scopes") {
      if (std::find(items->begin(), items->end(), "openid") == items->end()) {
        return Error::Invalid(where + " must include \"openid\"");
      }
      for (const auto& scope : *items) {
        if (scope.find_first_of(" \t\r\n\"\\") != std::string::npos) {
          return Error::Invalid(where + ": scope '" + scope + "' holds a space or quote");
        }
      }
      out.scopes = std::move(items).value();
    } else {
      out.allowed_groups = std::move(items).value();
    }
    return Ok();
  }
  auto text = ReadNonEmptyText(value, where);
  if (!text.ok()) return std::move(text).error();
  if (text->size() > 4096) return Error::Invalid(where + " is over 4096 bytes");
  if (key == "issuer") {
    CS_RETURN_IF_ERROR(CheckIssuer(*text, where));
    out.issuer = std::move(text).value();
  } else if (key == "client_id") {
    out.client_id = std::move(text).value();
  } else if (key == "client_secret") {
    auto secret = ResolveSecret(*text, where);
    if (!secret.ok()) return std::move(secret).error();
    out.client_secret = std::move(secret).value();
    secret_given = true;
  } else if (key == "client_auth") {
    if (*text == "client_secret_basic") {
      out.client_auth = OidcClientAuth::kSecretBasic;
    } else if (*text == "client_secret_post") {
      out.client_auth = OidcClientAuth::kSecretPost;
    } else {
      return Error::Invalid(where + " must be \"client_secret_basic\" or \"client_secret_post\"");
    }
  } else if (key == "principal_claim") {
    out.principal_claim = std::move(text).value();
  } else if (key == "groups_claim") {
    out.groups_claim = std::move(text).value();
  } else if (key == "role") {
    const auto role = ParseRole(*text);
    if (!role || *role == Role::kAgent) {
      return Error::Invalid(where + " must be \"approver\" or \"admin\" (never \"agent\")");
    }
    out.role = *role;
  } else if (key == "tenant") {
    if (text->size() > 64) return Error::Invalid(where + " is over 64 bytes");
    out.tenant = std::move(text).value();
  } else {
    return Error::Invalid(where +
                          ": unknown key (the [ui.oidc] keys are issuer, client_id, "
                          "client_secret, client_auth, scopes, principal_claim, groups_claim, "
                          "role, tenant and allowed_groups)");
  }
  return Ok();
}

}  // namespace

Result<std::optional<OidcSettings>> ReadOidcTable(const toml::table& root,
                                                  const std::string& file) {
  const toml::node* ui_node = root.get("ui");
  if (!ui_node) return std::optional<OidcSettings>();
  const toml::table* ui = ui_node->as_table();
  if (!ui) return Error::Invalid(Where(file, *ui_node, "ui") + " must be a table");
  const toml::node* oidc_node = nullptr;
  for (const auto& [key_node, value] : *ui) {
    if (key_node.str() != "oidc") {
      return Error::Invalid(Where(file, value, "ui." + std::string(key_node.str())) +
                            ": unknown key (the [ui] table holds only [ui.oidc])");
    }
    oidc_node = &value;
  }
  if (!oidc_node) return std::optional<OidcSettings>();
  const toml::table* table = oidc_node->as_table();
  if (!table) return Error::Invalid(Where(file, *oidc_node, "ui.oidc") + " must be a table");
  OidcSettings out;
  bool secret_given = false;
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    CS_RETURN_IF_ERROR(
        ReadKey(key, value, Where(file, value, "ui.oidc." + key), out, secret_given));
  }
  const std::string where = WhereLine(file, *table) + ": ui.oidc";
  if (out.issuer.empty()) return Error::Invalid(where + ".issuer is required");
  if (out.client_id.empty()) return Error::Invalid(where + ".client_id is required");
  if (!secret_given) {
    const char* v = std::getenv(kOidcClientSecretVariable);
    if (!v || !*v) {
      return Error::Invalid(where + ".client_secret is required (or set " +
                            kOidcClientSecretVariable + ")");
    }
    out.client_secret = v;
  }
  return std::optional<OidcSettings>(std::move(out));
}

}  // namespace countersign
