#include "cli/cancel_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"

namespace countersign {

void CancelCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand("cancel", "Cancel a pending request");
  command->footer(kNonRequestFooter);
  command->add_option("id", id_, "the request id (req_...)")->required()->type_name("ID");
  command->add_option("--reason", reason_, "why; recorded in the audit log")->type_name("TEXT");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] { exit_code = Run(); });
}

int CancelCommand::Run() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  boost::json::object body;
  if (reason_) body["reason"] = *reason_;
  auto request = api->Post("/v1/requests/" + PercentEncode(id_) + "/cancel", body);
  if (!request.ok()) return ReportFailure(request.error());
  if (connection_.json) {
    std::cout << boost::json::serialize(*request) << "\n";
  } else {
    PrintOutcome(std::cout, *request);
  }
  return kExitOk;
}

}  // namespace countersign
