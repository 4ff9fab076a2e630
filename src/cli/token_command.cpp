#include "cli/token_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"
#include "cli/text_table.hpp"

namespace countersign {

void TokenCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* token = parent.add_subcommand(
      "token",
      "Create, list and revoke API tokens (admin); recover an admin token on the server host");
  token->footer(kNonRequestFooter);
  token->require_subcommand(0, 1);

  CLI::App* create = token->add_subcommand("create", "Create a token; its secret is shown once");
  create->footer(kNonRequestFooter);
  create->add_option("--name", name_, "who or what will use it, e.g. alice or ci-bot")
      ->required()
      ->type_name("NAME");
  create
      ->add_option("--role", role_,
                   "agent (create and wait), approver (decide) or admin (everything)")
      ->required()
      ->type_name("ROLE")
      ->check(CLI::IsMember({"agent", "approver", "admin"}));
  create->add_option("--tenant", tenant_, "its tenant (default: yours)")->type_name("TENANT");
  create->add_option("--group", groups_, "a group it belongs to (repeatable)")->type_name("GROUP");
  create_connection_.AddTo(*create);
  create->callback([this, &exit_code] { exit_code = RunCreate(); });

  CLI::App* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->footer(kNonRequestFooter);
  list_connection_.AddTo(*list);
  list->callback([this, &exit_code] { exit_code = RunList(); });

  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token; it stops working at once");
  revoke->footer(kNonRequestFooter);
  revoke->add_option("id", revoke_id_, "the token id (tok_...)")->required()->type_name("ID");
  revoke_connection_.AddTo(*revoke);
  revoke->callback([this, &exit_code] { exit_code = RunRevoke(); });

  recover_.Register(*token, exit_code);

  // CLI11 runs this after the subcommand's callback. Not require_subcommand(1): with it, an
  // unknown word after `token` is reported as "a subcommand is required".
  token->callback([token] {
    if (token->get_subcommands().empty()) {
      throw CLI::RequiredError("a subcommand (create, list, revoke or recover)");
    }
  });
}

int TokenCommand::RunCreate() const {
  auto api = create_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  boost::json::object body;
  body["name"] = name_;
  body["role"] = role_;
  if (tenant_) body["tenant"] = *tenant_;
  if (!groups_.empty()) {
    boost::json::array groups;
    for (const auto& group : groups_) groups.emplace_back(group);
    body["groups"] = std::move(groups);
  }
  auto created = api->Post("/v1/tokens", body);
  if (!created.ok()) return ReportFailure(created.error());
  if (create_connection_.json) {
    std::cout << boost::json::serialize(*created) << "\n";
    return kExitOk;
  }
  std::cerr << "created " << TextField(*created, "id") << " for " << TextField(*created, "name")
            << " (role " << TextField(*created, "role") << ", tenant "
            << TextField(*created, "tenant") << ")\n";
  std::cout << TextField(*created, "token") << "\n";
  std::cerr << "Store this token now: it cannot be shown again.\n";
  return kExitOk;
}

int TokenCommand::RunList() const {
  auto api = list_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto listing = api->Get("/v1/tokens");
  if (!listing.ok()) return ReportFailure(listing.error());
  if (list_connection_.json) {
    std::cout << boost::json::serialize(*listing) << "\n";
    return kExitOk;
  }
  TextTable table({"ID", "NAME", "ROLE", "TENANT", "GROUPS", "CREATED", "REVOKED"});
  for (const auto& element : ArrayField(*listing, "tokens")) {
    const auto* token = element.if_object();
    if (token == nullptr) continue;
    table.AddRow({TextField(*token, "id"), TextField(*token, "name"), TextField(*token, "role"),
                  TextField(*token, "tenant"), Join(ArrayField(*token, "groups"), ","),
                  ShortTime(TextField(*token, "created_at")),
                  ShortTime(TextField(*token, "revoked_at"))});
  }
  table.Print(std::cout);
  return kExitOk;
}

int TokenCommand::RunRevoke() const {
  auto api = revoke_connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  auto revoked = api->Delete("/v1/tokens/" + PercentEncode(revoke_id_));
  if (!revoked.ok()) return ReportFailure(revoked.error());
  if (revoke_connection_.json) {
    std::cout << boost::json::serialize(*revoked) << "\n";
  } else {
    std::cout << "revoked " << TextField(*revoked, "id") << "\n";
  }
  return kExitOk;
}

}  // namespace countersign
