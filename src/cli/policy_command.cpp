#include "cli/policy_command.hpp"

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include "cli/exit_codes.hpp"
#include "cli/json_fields.hpp"
#include "config/duration.hpp"
#include "config/server_config.hpp"

namespace countersign {
namespace {

constexpr std::string_view kGroupPrefix = "group:";

const char* DecisionName(AutoDecision decision) {
  switch (decision) {
    case AutoDecision::kApprove:
      return "approve";
    case AutoDecision::kDeny:
      return "deny";
    case AutoDecision::kNone:
      break;
  }
  return "none";
}

boost::json::array ToArray(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

// The principals behind approver entries: names as they are, config groups replaced by
// their members, each once. "*" stays "*"; groups carried only by API tokens add no names.
boost::json::array Expand(const PolicySet& policies, const std::vector<std::string>& entries) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const auto& entry : entries) {
    if (entry.rfind(kGroupPrefix, 0) != 0) {
      add(entry);
      continue;
    }
    for (const auto& member : policies.Members(entry.substr(kGroupPrefix.size()))) add(member);
  }
  return ToArray(names);
}

// One approvers list for a person: "alice, group:sre (bob, carol; or a token in group sre)".
std::string ApproversText(const boost::json::object& groups, const boost::json::array& entries) {
  if (entries.empty()) return "any approver of the tenant";
  std::string out;
  for (const auto& element : entries) {
    const std::string entry = Text(element);
    if (!out.empty()) out += ", ";
    if (entry == "*") {
      out += "* (any approver)";
      continue;
    }
    out += entry;
    if (entry.rfind(kGroupPrefix, 0) != 0) continue;
    const std::string group = entry.substr(kGroupPrefix.size());
    const std::string members = Join(ArrayField(groups, group), ", ");
    out += " (" + (members.empty() ? std::string("no members listed") : members) +
           "; or a token in group " + group + ")";
  }
  return out;
}

}  // namespace

boost::json::object PolicyTestReport(const PolicySet& policies, const RequestFacts& facts,
                                     std::chrono::seconds default_timeout) {
  const PolicyVerdict verdict = policies.Evaluate(facts);
  const Policy& policy = *verdict.policy;
  const std::chrono::seconds timeout =
      verdict.policy == &policies.default_policy() ? default_timeout : policy.timeout;

  boost::json::object request;
  request["action"] = facts.action;
  request["requester"] = facts.requester;
  request["tenant"] = facts.tenant;
  request["risk"] = facts.risk;

  boost::json::object report;
  report["request"] = std::move(request);
  report["policy"] = policy.name;
  report["source"] = policy.source;
  report["reason"] = verdict.reason;
  report["high_risk"] = verdict.high_risk;
  report["decision"] = DecisionName(verdict.decision);
  report["policy_decision"] = DecisionName(policy.decision);
  report["quorum"] = policy.quorum;
  report["deny_threshold"] = policy.deny_threshold;
  report["approvers"] = ToArray(policy.approvers);
  report["approvers_expanded"] = Expand(policies, policy.approvers);
  report["timeout_seconds"] = timeout.count();
  if (policy.max_timeout) {
    report["max_timeout_seconds"] = policy.max_timeout->count();
  } else {
    report["max_timeout_seconds"] = nullptr;
  }
  report["on_timeout"] = OnTimeoutName(policy.on_timeout);
  boost::json::array tiers;
  for (size_t i = 0; i < policy.escalate_to.size(); ++i) {
    const EscalationTier& tier = policy.escalate_to[i];
    boost::json::object out;
    out["level"] = i + 1;
    out["approvers"] = ToArray(tier.approvers);
    out["approvers_expanded"] = Expand(policies, tier.approvers);
    out["timeout_seconds"] = (tier.timeout.count() > 0 ? tier.timeout : timeout).count();
    out["notify"] = ToArray(tier.notify);
    tiers.emplace_back(std::move(out));
  }
  report["escalate_to"] = std::move(tiers);
  report["notify"] = ToArray(policy.notify);
  if (policy.remind_every) {
    report["remind_every_seconds"] = policy.remind_every->count();
  } else {
    report["remind_every_seconds"] = nullptr;
  }
  // Only the groups the report names, so the text form can list their members.
  boost::json::object groups;
  auto add_groups = [&](const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
      if (entry.rfind(kGroupPrefix, 0) != 0) continue;
      const std::string group = entry.substr(kGroupPrefix.size());
      groups[group] = ToArray(policies.Members(group));
    }
  };
  add_groups(policy.approvers);
  for (const auto& tier : policy.escalate_to) add_groups(tier.approvers);
  report["groups"] = std::move(groups);
  return report;
}

void PrintPolicyTestReport(std::ostream& out, const boost::json::object& report) {
  auto line = [&out](const char* label, const std::string& value) {
    out << label << value << "\n";
  };
  const auto& groups = ObjectField(report, "groups");
  const std::string source = TextField(report, "source");
  line("policy:          ", TextField(report, "policy") + " (" + source + ")");
  line("why:             ", TextField(report, "reason"));
  const auto* high_risk = report.if_contains("high_risk");
  line("high risk:       ", high_risk != nullptr && high_risk->is_bool() && high_risk->get_bool()
                                ? "yes: never approved automatically, by policy or grant"
                                : "no");
  const std::string decision = TextField(report, "decision");
  if (decision == "approve") {
    line("decision:        ", "approved automatically; no one is asked");
  } else if (decision == "deny") {
    line("decision:        ", "denied automatically; no one is asked");
  } else if (TextField(report, "policy_decision") == "approve") {
    line("decision:        ",
         "ask people (the policy's automatic approval does not apply to high risk)");
  } else {
    line("decision:        ", "ask people");
  }
  const int64_t quorum = IntField(report, "quorum").value_or(1);
  line("quorum:          ", std::to_string(quorum) +
                                (quorum == 1 ? " approval" : " approvals from distinct people") +
                                " (never the requester)");
  const int64_t deny_threshold = IntField(report, "deny_threshold").value_or(1);
  line("deny threshold:  ",
       deny_threshold == 1
           ? std::string("1 denial resolves it denied")
           : std::to_string(deny_threshold) + " denials from distinct people resolve it denied");
  line("approvers:       ", ApproversText(groups, ArrayField(report, "approvers")));
  const auto most = IntField(report, "max_timeout_seconds");
  line(
      "timeout:         ",
      DurationText(std::chrono::seconds(IntField(report, "timeout_seconds").value_or(0))) +
          (most ? " (a request may ask for up to " + DurationText(std::chrono::seconds(*most)) + ")"
                : std::string()) +
          ", then " + TextField(report, "on_timeout"));
  for (const auto& element : ArrayField(report, "escalate_to")) {
    const auto* tier = element.if_object();
    if (tier == nullptr) continue;
    std::string text =
        ApproversText(groups, ArrayField(*tier, "approvers")) + " for " +
        DurationText(std::chrono::seconds(IntField(*tier, "timeout_seconds").value_or(0)));
    const std::string notify = Join(ArrayField(*tier, "notify"), ", ");
    if (!notify.empty()) text += "; notify " + notify;
    const std::string label = "escalation " + TextField(*tier, "level") + ":";
    out << label << std::string(label.size() < 17 ? 17 - label.size() : 1, ' ') << text << "\n";
  }
  const std::string notify = Join(ArrayField(report, "notify"), ", ");
  line("notify:          ", notify.empty() ? "none" : notify);
  const auto remind = IntField(report, "remind_every_seconds");
  line("reminders:       ",
       remind ? "every " + DurationText(std::chrono::seconds(*remind)) : "none");
}

void PolicyCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* policy = parent.add_subcommand("policy", "Check the policies of a config file");
  policy->require_subcommand(0, 1);
  const char* footer =
      "Works offline: reads the file, never contacts a server. Exit status: 0 the file is "
      "valid (the report says what matched), 1 the file is invalid (the message names the "
      "file, line and key), 3 bad usage.";
  policy->footer(footer);

  CLI::App* test =
      policy->add_subcommand("test", "Show which policy a request would get and what it would do");
  test->footer(footer);
  test->add_option("--config", config_,
                   "the TOML file `serve --config` reads (default: the built-in policy only)")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  test->add_option("--action", action_, "the request's action, e.g. deploy_production")
      ->required()
      ->type_name("ACTION");
  test->add_option("--requester", requester_, "the requesting principal, e.g. ci-bot")
      ->type_name("NAME");
  test->add_option("--tenant", tenant_, "the request's tenant (default: default)")
      ->type_name("TENANT");
  test->add_option("--risk", risk_, "the risk the request declares (default: none)")
      ->type_name("RISK")
      ->check(CLI::IsMember({"normal", "high"}));
  test->add_flag("--json", json_, "print the report as JSON");
  test->callback([this, &exit_code] { exit_code = RunTest(); });

  policy->callback([policy] {
    if (policy->get_subcommands().empty()) throw CLI::RequiredError("a subcommand (test)");
  });
}

int PolicyCommand::RunTest() const {
  // The file as `serve --config FILE` reads it (flags and COUNTERSIGN_* variables aside),
  // so an error here is the error serve would stop with.
  ServeOptions options;
  options.Give("config", config_);
  auto loaded = LoadServerConfig(options);
  if (!loaded.ok()) {
    std::cerr << "countersign: configuration error: " << loaded.error().message << "\n";
    return kExitRefused;
  }
  const RequestFacts facts{action_, requester_, tenant_, risk_};
  boost::json::object report = PolicyTestReport(*loaded->policies, facts, loaded->default_timeout);
  if (json_) {
    report["config"] = config_ ? boost::json::value(*config_) : boost::json::value(nullptr);
    std::cout << boost::json::serialize(report) << "\n";
    return kExitOk;
  }
  std::cout << "config:          "
            << (config_ ? DisplaySafe(*config_) : std::string("none (built-in policy only)"))
            << "\n";
  PrintPolicyTestReport(std::cout, report);
  return kExitOk;
}

}  // namespace countersign
