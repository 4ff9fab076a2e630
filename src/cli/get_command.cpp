#include "cli/get_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"

namespace countersign {

void GetCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand("get", "Show one request and its decisions");
  command->footer(kNonRequestFooter);
  command->add_option("id", id_, "the request id (req_...)")->required()->type_name("ID");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] { exit_code = Run(); });
}

int GetCommand::Run() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto request = api->Get("/v1/requests/" + PercentEncode(id_));
  if (!request.ok()) return ReportFailure(request.error());
  if (connection_.json) {
    std::cout << boost::json::serialize(*request) << "\n";
  } else {
    PrintRequestDetails(std::cout, *request);
  }
  return kExitOk;
}

}  // namespace countersign
