#include "store/migration_set.hpp"

#include <algorithm>
#include <chrono>
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

Status MigrationSet::Apply(SqlConnection& db, const Migration& migration) {
  CS_RETURN_IF_ERROR(db.Exec(migration.sql));
  auto record =
      db.Prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
  if (!record.ok()) return std::move(record).error();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  (*record)->BindInt64(1, migration.version).BindText(2, migration.name).BindInt64(3, now.count());
  return (*record)->Run();
}

}  // namespace countersign
