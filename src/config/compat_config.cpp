#include "config/compat_config.hpp"

#include <functional>

#include "config/server_settings.hpp"
#include "config/toml_values.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

constexpr DurationRange kReplayWindow{std::chrono::seconds(0), std::chrono::hours(24), true};
constexpr DurationRange kAisocTimeout{std::chrono::minutes(1), std::chrono::hours(30 * 24), true};

// Reads one [compat.NAME] table key by key: `read` handles the keys it knows and returns
// false for the rest, which are then refused with the list in `known`.
class TableReader {
 public:
  TableReader(const toml::node& value, std::string where)
      : value_(value), where_(std::move(where)) {}

  Status Bool(bool& into) const { return Into(ReadBool(value_, where_), into); }
  Status Text(std::string& into, bool allow_empty = false) const {
    // Empty or not a string, the message is the same.
    if (allow_empty && value_.is_string()) return Into(ReadText(value_, where_), into);
    return Into(ReadNonEmptyText(value_, where_), into);
  }
  Status Duration(const DurationRange& range, std::chrono::seconds& into) const {
    auto read = ReadDuration(value_, where_, range);
    if (!read.ok()) return std::move(read).error();
    into = std::chrono::duration_cast<std::chrono::seconds>(read.value());
    return Ok();
  }
  // The value as `setting` of the settings table checks it.
  Status Setting(const ServerSetting& setting, int& into) const {
    auto read = setting.ParseNode(value_, where_);
    if (!read.ok()) return std::move(read).error();
    into = static_cast<int>(read->integer);
    return Ok();
  }
  Status StringMap(std::map<std::string, std::string>& into) const {
    const toml::table* t = value_.as_table();
    if (!t) return Error::Invalid(where_ + " must be a table of strings");
    for (const auto& [k, v] : *t) {
      CS_RETURN_IF_ERROR(Into(ReadNonEmptyText(v, where_ + "." + std::string(k.str())),
                              into[std::string(k.str())]));
    }
    return Ok();
  }
  Status StringList(std::vector<std::string>& into) const {
    return Into(ReadStringList(value_, where_, /*allow_empty_items=*/false), into);
  }
  const std::string& where() const { return where_; }

 private:
  template <typename T>
  static Status Into(Result<T> read, T& into) {
    if (!read.ok()) return std::move(read).error();
    into = std::move(read).value();
    return Ok();
  }

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
    return Error::Invalid(Where(file, *node, std::string("compat.") + name) + " must be a table");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    TableReader reader(value, Where(file, value, std::string("compat.") + name + "." + key));
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
  return ReadTable(
      compat, file, "hermes", "enabled, tenant, principal, anonymous, rate_limit",
      [&o](const std::string& key, const TableReader& r) -> Result<bool> {
        auto common = ReadAdapterKey(key, r, o.enabled, o.anonymous, &o.tenant, &o.principal);
        if (!common.ok() || common.value()) return common;
        if (key == "rate_limit") {
          CS_RETURN_IF_ERROR(r.Setting(*FindServerSetting("hermes_rate_limit"), o.rate_limit));
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
                     if (key == "workspaces")
                       CS_RETURN_IF_ERROR(r.StringMap(o.workspaces));
                     else if (key == "default_tenant")
                       CS_RETURN_IF_ERROR(r.Text(o.default_tenant, /*allow_empty=*/true));
                     else if (key == "replay_window_seconds") {
                       CS_RETURN_IF_ERROR(r.Duration(kReplayWindow, o.replay_window));
                     } else {
                       return false;
                     }
                     return true;
                   });
}

Status ReadAisocKeys(const toml::table& compat, const std::string& file, AisocOptions& o);

Status ReadAisoc(const toml::table& compat, const std::string& file, AisocOptions& o) {
  CS_RETURN_IF_ERROR(ReadAisocKeys(compat, file, o));
  // An anonymous caller chooses where the prompt, and so the person's vote links, go: only
  // to a destination the operator wrote down.
  if (o.enabled && o.anonymous && o.destinations.empty()) {
    const toml::node* table = compat.get("aisoc");
    const toml::node* anonymous =
        table && table->as_table() ? table->as_table()->get("anonymous") : nullptr;
    return Error::Invalid(
        (anonymous ? Where(file, *anonymous, "compat.aisoc.anonymous")
                   : std::string("compat.aisoc.anonymous")) +
        ": anonymous verifications need compat.aisoc.destinations, the exact webhook URLs an "
        "unauthenticated caller may prompt (or set anonymous = false and give callers tokens)");
  }
  return Ok();
}

Status ReadAisocKeys(const toml::table& compat, const std::string& file, AisocOptions& o) {
  return ReadTable(compat, file, "aisoc",
                   "enabled, tenant, principal, anonymous, timeout_seconds, allow_hosts, "
                   "destinations, slack_api_base",
                   [&o](const std::string& key, const TableReader& r) -> Result<bool> {
                     auto common =
                         ReadAdapterKey(key, r, o.enabled, o.anonymous, &o.tenant, &o.principal);
                     if (!common.ok() || common.value()) return common;
                     if (key == "allow_hosts") {
                       CS_RETURN_IF_ERROR(r.StringList(o.allow_hosts));
                     } else if (key == "destinations") {
                       CS_RETURN_IF_ERROR(r.StringList(o.destinations));
                     } else if (key == "timeout_seconds") {
                       CS_RETURN_IF_ERROR(r.Duration(kAisocTimeout, o.timeout));
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

Result<CompatOptions> ReadCompatTables(const toml::table& root, const std::string& file,
                                       CompatOptions defaults) {
  CompatOptions out = std::move(defaults);
  const toml::node* node = root.get("compat");
  if (!node) return out;
  const toml::table* compat = node->as_table();
  if (!compat) return Error::Invalid(Where(file, *node, "compat") + " must be a table");
  for (const auto& [key_node, value] : *compat) {
    const std::string key(key_node.str());
    if (key != "hermes" && key != "molecule" && key != "aisoc") {
      return Error::Invalid(Where(file, value, "compat." + key) +
                            ": unknown adapter (hermes, molecule, aisoc)");
    }
  }
  CS_RETURN_IF_ERROR(ReadHermes(*compat, file, out.hermes));
  CS_RETURN_IF_ERROR(ReadMolecule(*compat, file, out.molecule));
  CS_RETURN_IF_ERROR(ReadAisoc(*compat, file, out.aisoc));
  return out;
}

}  // namespace countersign
