#include "store/migration_set.hpp"

#include <algorithm>
#include <string_view>

namespace countersign {

Result<MigrationSet> MigrationSet::FromFiles(const EmbeddedFile* files) {
  MigrationSet set;
  auto& migrations = set.migrations_;
  for (const EmbeddedFile* file = files; file->name != nullptr; ++file) {
    std::string_view name(file->name);
    size_t digits = 0;
    while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9 || digits == name.size() || name[digits] != '_') {
      return Error::Internal("migration file \"" + std::string(name) +
                             "\" is not named NNN_description.sql");
    }
    migrations.push_back(
        {std::stoll(std::string(name.substr(0, digits))), std::string(name), file->content});
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return Error::Internal("migrations \"" + migrations[i - 1].name + "\" and \"" +
                             migrations[i].name + "\" have the same version");
    }
  }
  return set;
}

}  // namespace countersign
