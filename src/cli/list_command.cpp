#include "cli/list_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/number_option.hpp"
#include "cli/query_string.hpp"
#include "cli/text_table.hpp"

namespace countersign {

void ListCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand("ls", "List requests, newest first");
  command->footer(kNonRequestFooter);
  command
      ->add_option("--status", status_,
                   "only requests in this status: pending, approved, denied, answered, expired "
                   "or cancelled")
      ->type_name("STATUS")
      ->check(CLI::IsMember({"pending", "approved", "denied", "answered", "expired", "cancelled"}));
  command->add_option("--action", action_, "only requests for this action")->type_name("ACTION");
  command->add_option("--requester", requester_, "only requests from this principal")
      ->type_name("NAME");
  command->add_option("--session", session_, "only requests of this session")->type_name("ID");
  command->add_option("--limit", limit_, "at most N requests per page (1 to 500)")
      ->type_name("N")
      ->check(WholeNumber(1, 500));
  command->add_option("--cursor", cursor_, "start at this cursor (from a previous page)")
      ->type_name("CURSOR");
  command->add_flag("--all", all_, "fetch every page, not just the first");
  command->add_flag("--mine", mine_,
                    "only requests I can decide: pending, I am an eligible approver, not the "
                    "requester, and have not decided them yet (what the web inbox lists)");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] { exit_code = Run(); });
}

int ListCommand::Run() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());

  boost::json::array requests;
  boost::json::value next_cursor = nullptr;
  std::string cursor = cursor_;
  do {
    QueryString query;
    query.Add("status", status_)
        .Add("action", action_)
        .Add("requester", requester_)
        .Add("session", session_)
        .Add("cursor", cursor);
    if (limit_) query.Add("limit", *limit_);
    if (mine_) query.Add("decidable", "true");
    auto page = api->Get("/v1/requests" + query.str());
    if (!page.ok()) return ReportFailure(page.error());
    for (const auto& request : ArrayField(*page, "requests")) requests.push_back(request);
    const auto* next = page->if_contains("next_cursor");
    next_cursor = next != nullptr ? *next : nullptr;
    cursor = TextField(*page, "next_cursor");
  } while (all_ && !cursor.empty());

  if (connection_.json) {
    boost::json::object out;
    out["requests"] = std::move(requests);
    out["next_cursor"] = std::move(next_cursor);
    std::cout << boost::json::serialize(out) << "\n";
    return kExitOk;
  }
  TextTable table({"ID", "STATUS", "ACTION", "REQUESTER", "CREATED", "TITLE"});
  for (const auto& element : requests) {
    const auto* request = element.if_object();
    if (request == nullptr) continue;
    table.AddRow({TextField(*request, "id"), TextField(*request, "status"),
                  TextField(*request, "action"), TextField(*request, "requester"),
                  ShortTime(TextField(*request, "created_at")), TextField(*request, "title")});
  }
  table.Print(std::cout);
  if (!cursor.empty()) {
    std::cerr << "(more requests: use --all, or --cursor " << cursor << ")\n";
  }
  return kExitOk;
}

}  // namespace countersign
