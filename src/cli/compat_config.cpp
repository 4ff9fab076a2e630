#include "cli/compat_config.hpp"

#include <functional>

namespace countersign {
namespace {

std::string Line(const toml::node& node) { return std::to_string(node.source().begin.line); }

// Reads one [compat.NAME] table key by key: `read` handles the keys it knows and returns
// false for the rest, which are then refused with the list in `known`.
class TableReader {
 public:
  TableReader(const toml::node& value, std::string where)
      : value_(value), where_(std::move(where)) {}

  Status Bool(bool& into) const {
    auto b = value_.value<bool>();
    if (!b || !value_.is_boolean()) return Error::Invalid(where_ + " must be true or false");
    into = *b;
    return Ok();
  }
  Status Text(std::string& into, bool allow_empty = false) const {
    auto s = value_.value<std::string>();
    if (!s || !value_.is_string() || (!allow_empty && s->empty())) {
      return Error::Invalid(where_ + " must be a non-empty string");
    }
    into = *s;
    return Ok();
  }
  Status Integer(int64_t lo, int64_t hi, int64_t& into) const {
    auto i = value_.value<int64_t>();
    if (!i || !value_.is_integer() || *i < lo || *i > hi) {
      return Error::Invalid(where_ + " must be an integer " + std::to_string(lo) + "-" +
                            std::to_string(hi));
    }
    into = *i;
    return Ok();
  }
  Status StringMap(std::map<std::string, std::string>& into) const {
    const toml::table* t = value_.as_table();
    if (!t) return Error::Invalid(where_ + " must be a table of strings");
    for (const auto& [k, v] : *t) {
      auto s = v.value<std::string>();
      if (!s || !v.is_string() || s->empty()) {
        return Error::Invalid(where_ + "." + std::string(k.str()) + " must be a non-empty string");
      }
      into[std::string(k.str())] = *s;
    }
    return Ok();
  }
  Status StringList(std::vector<std::string>& into) const {
    const toml::array* a = value_.as_array();
    if (!a) return Error::Invalid(where_ + " must be an array of strings");
    into.clear();
    for (const auto& item : *a) {
      auto s = item.value<std::string>();
      if (!s || !item.is_string() || s->empty()) {
        return Error::Invalid(where_ + " must be an array of non-empty strings");
      }
      into.push_back(*s);
    }
    return Ok();
  }
  const std::string& where() const { return where_; }

 private:
  const toml::node& value_;
  std::string where_;
};

using KeyReader = std::function<Result<bool>(const std::string& key, const TableReader& r)>;

Status ReadTable(const toml::table& compat, const std::string& file, const char* name,
                 const char* known, const KeyReader& read) {
  const toml::node* node = compat.get(name);
  if (!node) return Ok();
  const toml::table* table = node->as_table();
  if (!table)
    return Error::Invalid(file + ":" + Line(*node) + ": compat." + name + " must be a table");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    TableReader reader(value, file + ":" + Line(value) + ": compat." + name + "." + key);
    auto handled = read(key, reader);
    if (!handled.ok()) return std::move(handled).error();
    if (!handled.value()) return Error::Invalid(reader.where() + ": unknown key (" + known + ")");
  }
  return Ok();
}

// The keys every adapter's table has: enabled, anonymous and, where the adapter acts in one
// tenant as one principal (`tenant`/`principal` not null), those two. True when `key` was one.
Result<bool> ReadAdapterKey(const std::string& key, const TableReader& r, bool& enabled,
                            bool& anonymous, std::string* tenant, std::string* principal) {
  if (key == "enabled") {
    CS_RETURN_IF_ERROR(r.Bool(enabled));
  } else if (key == "anonymous") {
    CS_RETURN_IF_ERROR(r.Bool(anonymous));
  } else if (key == "tenant" && tenant) {
    CS_RETURN_IF_ERROR(r.Text(*tenant));
  } else if (key == "principal" && principal) {
    CS_RETURN_IF_ERROR(r.Text(*principal));
  } else {
    return false;
  }
  return true;
}

Status ReadHermes(const toml::table& compat, const std::string& file, HermesOptions& o) {
  return ReadTable(compat, file, "hermes", "enabled, tenant, principal, anonymous, rate_limit",
                   [&o](const std::string& key, const TableReader& r) -> Result<bool> {
                     auto common =
                         ReadAdapterKey(key, r, o.enabled, o.anonymous, &o.tenant, &o.principal);
                     if (!common.ok() || common.value()) return common;
                     int64_t n = 0;
                     if (key == "rate_limit") {
                       CS_RETURN_IF_ERROR(r.Integer(0, 1000000, n));
                       o.rate_limit = static_cast<int>(n);
                     } else {
                       return false;
                     }
                     return true;
                   });
}

Status ReadMolecule(const toml::table& compat, const std::string& file, MoleculeOptions& o) {
  return ReadTable(compat, file, "molecule",
                   "enabled, workspaces, default_tenant, anonymous, replay_window_seconds",
                   [&o](const std::string& key, const TableReader& r) -> Result<bool> {
                     auto common = ReadAdapterKey(key, r, o.enabled, o.anonymous, nullptr, nullptr);
                     if (!common.ok() || common.value()) return common;
                     int64_t n = 0;
                     if (key == "workspaces")
                       CS_RETURN_IF_ERROR(r.StringMap(o.workspaces));
                     else if (key == "default_tenant")
                       CS_RETURN_IF_ERROR(r.Text(o.default_tenant, /*allow_empty=*/true));
                     else if (key == "replay_window_seconds") {
                       CS_RETURN_IF_ERROR(r.Integer(0, 86400, n));
                       o.replay_window = std::chrono::seconds(n);
                     } else {
                       return false;
                     }
                     return true;
                   });
}

Status ReadAisoc(const toml::table& compat, const std::string& file, AisocOptions& o) {
  return ReadTable(compat, file, "aisoc",
                   "enabled, tenant, principal, anonymous, timeout_seconds, allow_hosts, "
                   "slack_api_base",
                   [&o](const std::string& key, const TableReader& r) -> Result<bool> {
                     auto common =
                         ReadAdapterKey(key, r, o.enabled, o.anonymous, &o.tenant, &o.principal);
                     if (!common.ok() || common.value()) return common;
                     int64_t n = 0;
                     if (key == "allow_hosts")
                       CS_RETURN_IF_ERROR(r.StringList(o.allow_hosts));
                     else if (key == "timeout_seconds") {
                       CS_RETURN_IF_ERROR(r.Integer(60, 30 * 86400, n));
                       o.timeout = std::chrono::seconds(n);
                     } else if (key == "slack_api_base") {
                       CS_RETURN_IF_ERROR(r.Text(o.slack_api_base));
                       while (o.slack_api_base.ends_with('/')) o.slack_api_base.pop_back();
                       if (!o.slack_api_base.starts_with("https://") &&
                           !o.slack_api_base.starts_with("http://")) {
                         return Error::Invalid(r.where() + " must be an http or https URL");
                       }
                     } else {
                       return false;
                     }
                     return true;
                   });
}

}  // namespace

Result<CompatOptions> ReadCompatTables(const toml::table& root, const std::string& file) {
  CompatOptions out;
  const toml::node* node = root.get("compat");
  if (!node) return out;
  const toml::table* compat = node->as_table();
  if (!compat) return Error::Invalid(file + ":" + Line(*node) + ": compat must be a table");
  for (const auto& [key_node, value] : *compat) {
    const std::string key(key_node.str());
    if (key != "hermes" && key != "molecule" && key != "aisoc") {
      return Error::Invalid(file + ":" + Line(value) + ": compat." + key +
                            ": unknown adapter (hermes, molecule, aisoc)");
    }
  }
  CS_RETURN_IF_ERROR(ReadHermes(*compat, file, out.hermes));
  CS_RETURN_IF_ERROR(ReadMolecule(*compat, file, out.molecule));
  CS_RETURN_IF_ERROR(ReadAisoc(*compat, file, out.aisoc));
  return out;
}

}  // namespace countersign
