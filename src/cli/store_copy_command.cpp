#include "cli/store_copy_command.hpp"

#include <iomanip>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "cli/store_target.hpp"
#include "core/counted_noun.hpp"
#include "store/store_copy.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Stop the source's server first: the copy reads one snapshot of it, and anything written "
    "afterwards would not be copied. The source is only read (a SQLite file is opened "
    "read-only; its schema is migrated first if this binary's is newer). The destination "
    "must be a new, empty database: one holding any request, event or principal is refused "
    "unchanged, and there is no --force. Rows are copied table by table, 1000 per "
    "transaction, with their ids; afterwards the destination's audit chain is verified in "
    "full and its head and row counts compared with the source's. A copy that fails part-way "
    "leaves a partial destination: drop and recreate that database before trying again. "
    "Exit status: 0 copied and matching, 1 refused (the destination is not empty, a schema "
    "newer than this binary), 2 copied but the destination does not match the source, 3 any "
    "other error (a database cannot be reached, the source does not exist, a failed copy, "
    "bad usage).";

constexpr const char* kStoreForm = "sqlite:PATH|postgres://URL";

// Migrates `target` (`role` names it in errors: "the source", "the destination").
Status MigrateEnd(const StoreTarget& target, std::string_view role) {
  auto outcome = target.Migrate();
  if (!outcome.ok()) {
    Error error = std::move(outcome).error();
    error.message = std::string(role) + ": " + error.message;
    return error;
  }
  if (!outcome->applied.empty()) {
    std::cout << role << ": migrated to schema version " << outcome->version << " (applied "
              << outcome->applied.front().name;
    if (outcome->applied.size() > 1) std::cout << " to " << outcome->applied.back().name;
    std::cout << ")\n";
  }
  return Ok();
}

}  // namespace

void StoreCopyCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* store = parent.add_subcommand("store", "Work on a store's database directly");
  store->require_subcommand(1);
  CLI::App* copy = store->add_subcommand(
      "copy", "Copy a whole store into a new, empty database (e.g. SQLite to PostgreSQL)");
  copy->footer(kFooter);
  copy->add_option("--from", from_, "the store to copy (stop its server first)")
      ->required()
      ->type_name(kStoreForm);
  copy->add_option("--to", to_, "the new, empty store to copy into")
      ->required()
      ->type_name(kStoreForm);
  copy->callback([this, &exit_code] { exit_code = Run(); });
}

int StoreCopyCommand::Run() const {
  // The stores log each step at info; this command prints its own account of them.
  spdlog::set_level(spdlog::level::warn);
  auto source = StoreTarget::Parse(from_, "--from");
  if (!source.ok()) return ReportFailure(source.error());
  auto destination = StoreTarget::Parse(to_, "--to");
  if (!destination.ok()) return ReportFailure(destination.error());
  if (source->Describe() == destination->Describe()) {
    return ReportFailure(Error::Unavailable("--from and --to name the same store"));
  }

  // Everything that refuses comes before anything is written to either end.
  auto source_schema = source->Applied();
  if (!source_schema.ok()) return ReportFailure(source_schema.error());
  if (source_schema->empty()) {
    return ReportFailure(
        Error::Unavailable(source->Describe() + " holds no countersign store to copy"));
  }
  if (auto newer = SchemaMigrations::CheckNotNewer(source->dialect(), *source_schema,
                                                   "the source " + source->Describe());
      !newer.ok()) {
    return ReportFailure(newer.error());
  }
  auto destination_schema = destination->Applied();
  if (!destination_schema.ok()) return ReportFailure(destination_schema.error());
  if (!destination_schema->empty()) {
    if (auto newer = SchemaMigrations::CheckNotNewer(destination->dialect(), *destination_schema,
                                                     "the destination " + destination->Describe());
        !newer.ok()) {
      return ReportFailure(newer.error());
    }
    auto db = destination->Connect(/*read_only=*/true);
    if (!db.ok()) return ReportFailure(db.error());
    if (auto empty = StoreCopy::CheckEmpty(**db); !empty.ok()) {
      return ReportFailure(Error::Conflict(destination->Describe() + ": " + empty.error().message));
    }
  }

  if (auto migrated = MigrateEnd(*source, "the source"); !migrated.ok()) {
    return ReportFailure(migrated.error());
  }
  if (auto migrated = MigrateEnd(*destination, "the destination"); !migrated.ok()) {
    return ReportFailure(migrated.error());
  }
  auto from = source->Connect(/*read_only=*/true);
  if (!from.ok()) return ReportFailure(from.error());
  auto to = destination->Connect(/*read_only=*/false);
  if (!to.ok()) return ReportFailure(to.error());

  std::cout << "copying " << source->Describe() << " to " << destination->Describe() << "\n";
  auto report = StoreCopy::Copy(**from, **to, [](const TableCopyCount& table) {
    std::cout << "  " << std::left << std::setw(22) << table.table << std::right << std::setw(10)
              << table.destination_rows << " rows\n"
              << std::flush;
  });
  if (!report.ok()) {
    Error error = std::move(report).error();
    if (error.code != ErrorCode::kConflict) {
      error.message = "the copy failed: " + error.message +
                      " (the destination may hold part of the copy: recreate it before trying "
                      "again)";
      error.code = ErrorCode::kUnavailable;
    }
    return ReportFailure(error);
  }
  from->reset();
  to->reset();

  auto store = destination->OpenStore();
  if (!store.ok()) return ReportFailure(store.error());
  auto check = StoreCopy::Check(*report, **store);
  (*store)->Stop();
  if (!check.ok()) return ReportFailure(check.error());

  std::cout << "audit chain verified: "
            << CountedNoun(static_cast<int64_t>(check->events_verified), "event") << "\n"
            << "audit head: seq " << check->destination_head.seq << ", hash "
            << (check->destination_head.hash.empty() ? "(none)" : check->destination_head.hash)
            << " (source: seq " << report->source_head.seq << ")\n";
  if (!check->ok()) {
    for (const auto& difference : check->differences) {
      std::cerr << "countersign: " << difference << "\n";
    }
    std::cerr << "countersign: the copy does not match the source\n";
    return kExitCopyDiffers;
  }
  std::cout << "copied: the destination matches the source\n";
  return kExitOk;
}

}  // namespace countersign
