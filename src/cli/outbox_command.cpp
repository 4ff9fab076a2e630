#include "cli/outbox_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"
#include "cli/text_table.hpp"

namespace countersign {
namespace {

std::string Attempts(const boost::json::object& row) {
  const auto attempts = IntField(row, "attempts");
  return attempts ? std::to_string(*attempts) : "";
}

}  // namespace

void OutboxCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* outbox = parent.add_subcommand(
      "outbox",
      "List notifications and webhooks still to deliver or given up on, and retry one "
      "(admin)");
  outbox->footer(kNonRequestFooter);
  outbox->require_subcommand(0, 1);

  CLI::App* list = outbox->add_subcommand(
      "ls", "List outbox rows, newest first: state, destination, attempts and the last error");
  list->footer(kNonRequestFooter);
  list->add_option("--state", state_, "only rows in this state: pending, delivered or failed")
      ->type_name("STATE")
      ->check(CLI::IsMember({"pending", "delivered", "failed"}));
  list->add_option("--request", request_, "only the rows of this request")->type_name("ID");
  list->add_option("--limit", limit_, "at most this many rows, 1 to 1000 (default 100)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000));
  list_connection_.AddTo(*list);
  list->callback([this, &exit_code] { exit_code = RunList(); });

  CLI::App* retry = outbox->add_subcommand(
      "retry",
      "Retry a delivery now: a pending row is due at once, a failed one pending again "
      "with its attempts reset");
  retry->footer(kNonRequestFooter);
  retry->add_option("id", retry_id_, "the delivery id (dlv_...), as `outbox ls` shows it")
      ->required()
      ->type_name("ID");
  retry_connection_.AddTo(*retry);
  retry->callback([this, &exit_code] { exit_code = RunRetry(); });

  outbox->callback([outbox] {
    if (outbox->get_subcommands().empty()) {
      throw CLI::RequiredError("a subcommand (ls or retry)");
    }
  });
}

int OutboxCommand::RunList() const {
  auto api = list_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  QueryString query;
  query.Add("state", state_).Add("request", request_).Add("limit", limit_);
  auto listing = api->Get("/v1/outbox" + query.str());
  if (!listing.ok()) return ReportFailure(listing.error());
  if (list_connection_.json) {
    std::cout << boost::json::serialize(*listing) << "\n";
    return kExitOk;
  }
  TextTable table({"DELIVERY", "STATE", "DESTINATION", "KIND", "EVENT", "REQUEST", "ATTEMPTS",
                   "NEXT", "LAST ERROR"});
  for (const auto& element : ArrayField(*listing, "outbox")) {
    const auto* row = element.if_object();
    if (row == nullptr) continue;
    const std::string state = TextField(*row, "state");
    table.AddRow({TextField(*row, "delivery_id"), state, TextField(*row, "destination"),
                  TextField(*row, "kind"), TextField(*row, "event"), TextField(*row, "request_id"),
                  Attempts(*row),
                  state == "pending" ? ShortTime(TextField(*row, "next_attempt_at")) : "",
                  TextField(*row, "last_error")});
  }
  table.Print(std::cout);
  return kExitOk;
}

int OutboxCommand::RunRetry() const {
  auto api = retry_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto retried = api->Post("/v1/outbox/" + PercentEncode(retry_id_) + "/retry", {});
  if (!retried.ok()) return ReportFailure(retried.error());
  if (retry_connection_.json) {
    std::cout << boost::json::serialize(*retried) << "\n";
    return kExitOk;
  }
  std::cout << TextField(*retried, "delivery_id") << "  " << TextField(*retried, "state") << "  "
            << TextField(*retried, "destination") << "  attempts " << Attempts(*retried) << "\n";
  return kExitOk;
}

}  // namespace countersign
