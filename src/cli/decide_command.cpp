#include "cli/decide_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"

namespace countersign {

void DecideCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* command = parent.add_subcommand(name_, description_);
  command->footer(kNonRequestFooter);
  command->add_option("id", id_, "the request id (req_...)")->required()->type_name("ID");
  if (!choice_is_fixed_) {
    command
        ->add_option("--choice", choice_,
                     "the choice id, e.g. approve, deny, acknowledge, escalate (required unless "
                     "--answer is given)")
        ->type_name("CHOICE");
    command->add_option("--answer", answer_, "the free-text answer to a question")
        ->type_name("TEXT");
  }
  command->add_option("--comment", comment_, "why; shown in the audit log and to the requester")
      ->type_name("TEXT");
  command->add_option("--by", by_, "who decides (only honoured when the server runs --auth off)")
      ->type_name("NAME");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] {
    // Reported like any other usage error: CLI11 catches this in RunCli.
    if (choice_.empty() && !answer_) throw CLI::RequiredError("--choice (or --answer)");
    exit_code = Run();
  });
}

int DecideCommand::Run() const {
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  boost::json::object body;
  if (!choice_.empty()) body["choice"] = choice_;
  if (comment_) body["comment"] = *comment_;
  if (answer_) body["answer"] = *answer_;
  if (by_) body["by"] = *by_;
  auto request = api->Post("/v1/requests/" + PercentEncode(id_) + "/decisions", body);
  if (!request.ok()) return ReportFailure(request.error());
  if (connection_.json) {
    std::cout << boost::json::serialize(*request) << "\n";
  } else {
    PrintOutcome(std::cout, *request);
  }
  return kExitOk;
}

}  // namespace countersign
