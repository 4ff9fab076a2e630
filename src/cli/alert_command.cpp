#include "cli/alert_command.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "cli/key_value.hpp"
#include "cli/number_option.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

// A TOML scalar as JSON; nullopt for tables, arrays and dates.
std::optional<boost::json::value> Scalar(const toml::node& node) {
  if (const auto* s = node.as_string()) return boost::json::value(s->get());
  if (const auto* i = node.as_integer()) return boost::json::value(i->get());
  if (const auto* f = node.as_floating_point()) return boost::json::value(f->get());
  if (const auto* b = node.as_boolean()) return boost::json::value(b->get());
  return std::nullopt;
}

Result<boost::json::object> AlertFrom(const toml::table& t, const std::string& where) {
  boost::json::object alert;
  std::string user_id;
  for (const auto& [key_node, node] : t) {
    const std::string key(key_node.str());
    if (key == "properties") {
      const auto* props = node.as_table();
      if (!props) return Error::Invalid(where + ".properties must be a table");
      boost::json::object properties;
      for (const auto& [name, value] : *props) {
        auto scalar = Scalar(value);
        if (!scalar) {
          return Error::Invalid(where + ".properties." + std::string(name.str()) +
                                " must be a string, a number or a boolean");
        }
        properties[name.str()] = std::move(*scalar);
      }
      alert["properties"] = std::move(properties);
      continue;
    }
    if (key != "id" && key != "name" && key != "description" && key != "user_id") {
      return Error::Invalid(where + ": unknown key '" + key +
                            "' (an alert has id, name, description, user_id and properties)");
    }
    const auto* text = node.as_string();
    if (!text) return Error::Invalid(where + "." + key + " must be a string");
    if (key == "user_id") {
      user_id = text->get();
    } else {
      alert[key] = text->get();
    }
  }
  boost::json::object body{{"alert", std::move(alert)}};
  if (!user_id.empty()) body["subject"] = "slack:" + user_id;
  return body;
}

}  // namespace

Result<std::vector<boost::json::object>> AlertCommand::ReadAlertsFile(std::string_view text,
                                                                      const std::string& name) {
  auto parsed = ParseTomlText(text, name);
  if (!parsed.ok()) return std::move(parsed).error();
  const toml::node* alerts = parsed->get("alerts");
  if (!alerts || !alerts->is_array_of_tables()) {
    return Error::Invalid(name + " has no [[alerts]] tables");
  }
  std::vector<boost::json::object> out;
  size_t index = 0;
  for (const auto& node : *alerts->as_array()) {
    auto alert = AlertFrom(*node.as_table(), name + ": alerts[" + std::to_string(index++) + "]");
    if (!alert.ok()) return std::move(alert).error();
    out.push_back(std::move(alert).value());
  }
  return out;
}

void AlertCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* alert = parent.add_subcommand("alert", "Alerts settled by chatting with the user");
  alert->require_subcommand(1);
  CLI::App* send = alert->add_subcommand(
      "send", "Post alerts and chat with the users they are about (POST /v1/alerts)");
  send->footer(kNonRequestFooter);
  send->add_option("--file", file_, "an alerts.toml of [[alerts]] tables (the seed bot's file)")
      ->type_name("PATH");
  send->add_option("--id", id_, "with --file: send only the alert with this id")->type_name("ID");
  send->add_option("--name", name_, "the alert's name (one alert from flags)")->type_name("TEXT");
  send->add_option("--user", user_, "the Slack user id it is about, e.g. U024BE7LH")
      ->type_name("USER_ID");
  send->add_option("--subject", subject_,
                   "instead of --user: a chat identity (slack:U…) or a principal in [identities]")
      ->type_name("WHO");
  send->add_option("--description", description_, "what happened")->type_name("TEXT");
  send->add_option("--property", properties_, "a property of the alert (repeatable)")
      ->type_name("KEY=VALUE")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            auto split = SplitKeyValue(text);
            return split.ok() ? "" : split.error().message;
          },
          ""));
  send->add_option("--question", question_,
                   "what the chat settles (default: was the user aware of this activity)")
      ->type_name("TEXT");
  send->add_option("--approver", approvers_, "an analyst who may act: NAME or group:NAME")
      ->type_name("NAME");
  send->add_option("--timeout", timeout_seconds_, "the deadline, e.g. 1h or 3600 (seconds)")
      ->type_name("DURATION")
      ->transform(DurationSeconds(1));
  send->add_option("--max-nudges", max_nudges_, "re-asks before the analysts decide (0-10)")
      ->type_name("N")
      ->check(WholeNumber(0, 10));
  send->add_option("--channel", channel_, "the Slack [[channel]] to use")->type_name("NAME");
  send->get_option("--user")->excludes(send->get_option("--subject"));
  connection_.AddTo(*send);
  send->callback([this, &exit_code] { exit_code = Run(); });
}

Result<std::vector<boost::json::object>> AlertCommand::Bodies() const {
  std::vector<boost::json::object> bodies;
  if (file_) {
    if (name_ || user_ || description_ || !properties_.empty()) {
      return Error::Invalid(
          "--file reads the alerts from the file: drop --name, --user, "
          "--description and --property");
    }
    std::ifstream in(*file_, std::ios::binary);
    if (!in) return Error::Unavailable("cannot read " + *file_);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > kMaxFileBytes) return Error::Invalid(*file_ + " is larger than 1 MiB");
    auto read = ReadAlertsFile(text.str(), *file_);
    if (!read.ok()) return std::move(read).error();
    for (auto& body : read.value()) {
      const auto& alert = body["alert"].as_object();
      const auto* id = alert.if_contains("id");
      if (id_ && (!id || !id->is_string() || id->get_string() != *id_)) continue;
      bodies.push_back(std::move(body));
    }
    if (id_ && bodies.empty()) return Error::NotFound(*file_ + " has no alert with id " + *id_);
  } else {
    if (!name_ || (!user_ && !subject_)) {
      return Error::Invalid("give --file, or --name with --user or --subject");
    }
    boost::json::object alert{{"name", *name_}};
    if (description_) alert["description"] = *description_;
    boost::json::object properties;
    for (const auto& entry : properties_) {
      auto split = SplitKeyValue(entry);  // validated while parsing
      if (split.ok()) properties[split->first] = split->second;
    }
    alert["properties"] = std::move(properties);
    bodies.push_back(boost::json::object{{"alert", std::move(alert)},
                                         {"subject", subject_ ? *subject_ : "slack:" + *user_}});
  }
  for (auto& body : bodies) {
    if (subject_ && file_) body["subject"] = *subject_;
    if (question_) body["question"] = *question_;
    if (!approvers_.empty()) {
      boost::json::array approvers;
      for (const auto& a : approvers_) approvers.emplace_back(a);
      body["approvers"] = std::move(approvers);
    }
    if (timeout_seconds_) body["timeout_seconds"] = *timeout_seconds_;
    if (max_nudges_) body["max_nudges"] = *max_nudges_;
    if (channel_) body["channel"] = *channel_;
  }
  return bodies;
}

int AlertCommand::Run() const {
  auto bodies = Bodies();
  if (!bodies.ok()) return ReportFailure(bodies.error());
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  int worst = kExitOk;
  boost::json::array created;
  for (const auto& body : bodies.value()) {
    auto answer = api->Post("/v1/alerts", body);
    if (!answer.ok()) {
      const auto& alert = body.at("alert").as_object();
      const auto* name = alert.if_contains("name");
      std::cerr << "countersign: alert "
                << (name && name->is_string() ? std::string(name->get_string()) : "(unnamed)")
                << ": " << answer.error().message << "\n";
      worst = std::max(worst, ExitCodeFor(answer.error()));
      continue;
    }
    if (connection_.json) {
      created.push_back(std::move(answer).value());
      continue;
    }
    const auto& conversation = answer->at("conversation").as_object();
    std::cout << TextField(*answer, "id") << "  " << TextField(*answer, "status") << "  "
              << TextField(*answer, "title") << " (user " << TextField(conversation, "subject")
              << ")\n";
  }
  if (connection_.json) std::cout << boost::json::serialize(created) << "\n";
  return worst;
}

}  // namespace countersign
