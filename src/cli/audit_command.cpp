#include "cli/audit_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/number_option.hpp"
#include "cli/query_string.hpp"
#include "cli/text_table.hpp"
#include "core/counted_noun.hpp"

namespace countersign {

void AuditCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* audit = parent.add_subcommand("audit", "Show the audit log, or verify its hash chain");
  audit->footer(kNonRequestFooter);
  audit->require_subcommand(0, 1);
  audit->add_option("--request", request_, "only events of this request")->type_name("ID");
  audit->add_option("--since", since_, "only events after sequence number N")
      ->type_name("N")
      ->check(WholeNumber(0));
  audit->add_option("--limit", limit_, "at most N events (1 to 1000)")
      ->type_name("N")
      ->check(WholeNumber(1, 1000));
  connection_.AddTo(*audit);

  CLI::App* verify =
      audit->add_subcommand("verify", "Check the audit log's hash chain (exit 0 intact, 1 broken)");
  verify->footer(
      "Exit status: 0 the chain is intact, 1 it is broken (or the server refused: a 4xx "
      "answer), 3 any other error (server unreachable, a 5xx answer, bad usage).");
  connection_.AddTo(*verify);
  verify->add_flag("--full", full_,
                   "check the whole chain again, not only the events since the last check");
  verify->callback([this, &exit_code] { exit_code = RunVerify(); });

  // CLI11 runs a parent's callback after its subcommand's; `audit verify` is not a listing.
  audit->callback([this, verify, &exit_code] {
    if (!verify->parsed()) exit_code = RunList();
  });
}

int AuditCommand::RunList() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  QueryString query;
  query.Add("request", request_);
  if (since_) query.Add("since", *since_);
  if (limit_) query.Add("limit", *limit_);
  auto page = api->Get("/v1/audit" + query.str());
  if (!page.ok()) return ReportFailure(page.error());
  if (connection_.json) {
    std::cout << boost::json::serialize(*page) << "\n";
    return kExitOk;
  }
  TextTable table({"SEQ", "TIME", "TYPE", "ACTOR", "REQUEST"});
  for (const auto& element : ArrayField(*page, "events")) {
    const auto* event = element.if_object();
    if (event == nullptr) continue;
    table.AddRow({TextField(*event, "seq"), ShortTime(TextField(*event, "at")),
                  TextField(*event, "type"), TextField(*event, "actor"),
                  TextField(*event, "request_id")});
  }
  table.Print(std::cout);
  return kExitOk;
}

namespace {

// "1 event", "12 events": the count under `key`.
std::string Events(const boost::json::object& report, std::string_view key) {
  return CountedNoun(IntField(report, key).value_or(0), "event");
}

// Where the signed checkpoints leave the chain: the hash chain alone cannot show a rewrite by
// someone who can write the database, a signature can.
std::string SignedSummary(const boost::json::object& report) {
  const std::string unsigned_events = Events(report, "unsigned_events");
  const auto* last = report.if_contains("last_signed_seq");
  if (last == nullptr || !last->is_int64()) {
    const bool one = IntField(report, "unsigned_events") == 1;
    return "no signed checkpoint yet: the " + unsigned_events + (one ? " is" : " are") +
           " vouched for by their hashes only";
  }
  return "signed up to event " + std::to_string(last->get_int64()) + " at " +
         TextField(report, "last_signed_at") + "; " + unsigned_events + " since";
}

}  // namespace

int AuditCommand::RunVerify() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto report = api->Get(full_ ? "/v1/audit/verify?full=true" : "/v1/audit/verify");
  if (!report.ok()) return ReportFailure(report.error());
  const auto* ok = report->if_contains("ok");
  const bool intact = ok != nullptr && ok->is_bool() && ok->get_bool();
  if (connection_.json) {
    std::cout << boost::json::serialize(*report) << "\n";
  } else if (intact) {
    std::cout << "audit chain intact: " << Events(*report, "events_checked") << " checked\n"
              << SignedSummary(*report) << "\n";
  } else {
    std::cout << "audit chain BROKEN at event " << TextField(*report, "first_bad_seq") << ": "
              << TextField(*report, "reason") << " (" << Events(*report, "events_checked")
              << " checked)\n";
  }
  return intact ? kExitOk : kExitRefused;
}

}  // namespace countersign
