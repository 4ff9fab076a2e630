#include "cli/grant_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"
#include "cli/text_table.hpp"

namespace countersign {

void GrantCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* grant = parent.add_subcommand(
      "grant", "Create, list and revoke grants: \"don't ask again\" for an action (approver)");
  grant->footer(kNonRequestFooter);
  grant->require_subcommand(0, 1);

  CLI::App* create = grant->add_subcommand(
      "create", "Approve requests for ACTION at once until the grant expires (never high risk)");
  create->footer(kNonRequestFooter);
  create->add_option("--action", action_, "the action name, exactly as requests give it")
      ->required()
      ->type_name("ACTION");
  create
      ->add_option("--scope", scope_,
                   "session (one session only), requester (one requester, any session) or "
                   "tenant (default)")
      ->type_name("SCOPE")
      ->check(CLI::IsMember({"session", "requester", "tenant"}));
  create->add_option("--session", session_, "the session, for --scope session")
      ->type_name("SESSION");
  create->add_option("--requester", requester_, "the requester, for --scope requester")
      ->type_name("PRINCIPAL");
  create
      ->add_option("--ttl", ttl_seconds_,
                   "how long it lasts, e.g. 10m, 8h, 7d or 3600 (seconds) (required)")
      ->required()
      ->type_name("DURATION")
      ->transform(DurationSeconds(1));
  create_connection_.AddTo(*create);
  create->callback([this, &exit_code] { exit_code = RunCreate(); });

  CLI::App* list = grant->add_subcommand("list", "List the tenant's grants, newest first");
  list->footer(kNonRequestFooter);
  list_connection_.AddTo(*list);
  list->callback([this, &exit_code] { exit_code = RunList(); });

  CLI::App* revoke = grant->add_subcommand("revoke", "Revoke a grant; it stops at once");
  revoke->footer(kNonRequestFooter);
  revoke->add_option("id", revoke_id_, "the grant id (grt_...)")->required()->type_name("ID");
  revoke_connection_.AddTo(*revoke);
  revoke->callback([this, &exit_code] { exit_code = RunRevoke(); });

  grant->callback([grant] {
    if (grant->get_subcommands().empty()) {
      throw CLI::RequiredError("a subcommand (create, list or revoke)");
    }
  });
}

int GrantCommand::RunCreate() const {
  auto api = create_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  boost::json::object body{{"action", action_}, {"scope", scope_}, {"ttl_seconds", ttl_seconds_}};
  if (!session_.empty()) body["session"] = session_;
  if (!requester_.empty()) body["requester"] = requester_;
  auto created = api->Post("/v1/grants", body);
  if (!created.ok()) return ReportFailure(created.error());
  if (create_connection_.json) {
    std::cout << boost::json::serialize(*created) << "\n";
    return kExitOk;
  }
  std::cout << TextField(*created, "id") << "  " << TextField(*created, "action") << "  "
            << TextField(*created, "scope") << "  until "
            << ShortTime(TextField(*created, "expires_at")) << "\n";
  return kExitOk;
}

int GrantCommand::RunList() const {
  auto api = list_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto listing = api->Get("/v1/grants");
  if (!listing.ok()) return ReportFailure(listing.error());
  if (list_connection_.json) {
    std::cout << boost::json::serialize(*listing) << "\n";
    return kExitOk;
  }
  // FOR: the session a session grant covers, or the requester a requester grant covers.
  TextTable table({"ID", "ACTION", "SCOPE", "FOR", "BY", "EXPIRES", "REVOKED"});
  for (const auto& element : ArrayField(*listing, "grants")) {
    const auto* g = element.if_object();
    if (g == nullptr) continue;
    const std::string scope = TextField(*g, "scope");
    const std::string covers = scope == "requester" ? TextField(*g, "requester")
                               : scope == "session" ? TextField(*g, "session")
                                                    : "";
    table.AddRow({TextField(*g, "id"), TextField(*g, "action"), scope, covers,
                  TextField(*g, "created_by"), ShortTime(TextField(*g, "expires_at")),
                  ShortTime(TextField(*g, "revoked_at"))});
  }
  table.Print(std::cout);
  return kExitOk;
}

int GrantCommand::RunRevoke() const {
  auto api = revoke_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto revoked = api->Delete("/v1/grants/" + PercentEncode(revoke_id_));
  if (!revoked.ok()) return ReportFailure(revoked.error());
  if (revoke_connection_.json) {
    std::cout << boost::json::serialize(*revoked) << "\n";
  } else {
    std::cout << "revoked " << TextField(*revoked, "id") << "\n";
  }
  return kExitOk;
}

}  // namespace countersign
