#include "cli/decide_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/key_value.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"
#include "cli/response_fields.hpp"
#include "core/response_schema.hpp"

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
  command
      ->add_option("--field", fields_,
                   "one field of the request's form (its response_schema), typed by the form: "
                   "--field env=prod --field replicas=3; a multi-select takes a,b,c")
      ->type_name("NAME=VALUE");
  command
      ->add_option("--response", response_,
                   "the whole response as a JSON object, instead of --field")
      ->type_name("JSON");
  command->add_option("--by", by_, "who decides (only honoured when the server runs --auth off)")
      ->type_name("NAME");
  connection_.AddTo(*command);
  command->callback([this, &exit_code] {
    // Reported like any other usage error: CLI11 catches this in RunCli.
    if (choice_.empty() && !answer_ && fields_.empty() && !response_) {
      throw CLI::RequiredError("--choice (or --answer, --field or --response)");
    }
    if (!fields_.empty() && response_) {
      throw CLI::ValidationError("--field and --response", "give one or the other");
    }
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
  if (response_) {
    auto response = ParseJsonObject(*response_);
    if (!response.ok()) return ReportFailure(response.error());
    body["response"] = std::move(response).value();
  }
  if (!fields_.empty()) {
    // The form types the values: "3" is a number for an integer field, text for a string one.
    auto current = api->Get("/v1/requests/" + PercentEncode(id_));
    if (!current.ok()) return ReportFailure(current.error());
    const auto* schema_json = current->if_contains("response_schema");
    if (!schema_json || !schema_json->is_object()) {
      return ReportFailure(
          Error::Invalid("request " + id_ + " has no form (response_schema); --field needs one"));
    }
    auto schema = ResponseSchema::Parse(*schema_json);
    if (!schema.ok()) return ReportFailure(schema.error());
    auto response = ResponseFromFields(schema.value(), fields_);
    if (!response.ok()) return ReportFailure(response.error());
    body["response"] = std::move(response).value();
  }
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
