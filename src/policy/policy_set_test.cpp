#include "policy/policy_set.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace countersign {
namespace {

Policy MakePolicy(std::string name, PolicyMatch match) {
  Policy policy;
  policy.name = std::move(name);
  policy.match = std::move(match);
  policy.source = "test";
  return policy;
}

PolicyMatch Action(std::string action) {
  PolicyMatch match;
  match.action = std::move(action);
  return match;
}

// The policies every table row runs against, in file order.
PolicySet TestPolicies() {
  std::vector<Policy> policies;

  PolicyMatch frozen;
  frozen.tenant = "frozen";
  policies.push_back(MakePolicy("freeze", frozen));
  policies.back().decision = AutoDecision::kDeny;

  PolicyMatch ci_reads = Action("read_*");
  ci_reads.requester = "ci-*";
  policies.push_back(MakePolicy("ci-reads", ci_reads));
  policies.back().decision = AutoDecision::kApprove;

  policies.push_back(MakePolicy("reads", Action("read_*")));
  policies.back().decision = AutoDecision::kApprove;

  policies.push_back(MakePolicy("prod-deploys", Action("deploy_*")));
  policies.back().risk = "high";
  policies.back().quorum = 2;
  policies.back().approvers = {"group:sre"};
  policies.back().on_timeout = OnTimeout::kEscalate;
  policies.back().escalate_to = {EscalationTier{{"group:sre-leads"}, {}, {}}};

  PolicyMatch acme_high;
  acme_high.tenant = "acme";
  acme_high.risk = "high";
  policies.push_back(MakePolicy("acme-high", acme_high));
  policies.back().quorum = 2;
  policies.back().approvers = {"alice", "bob", "carol"};

  policies.push_back(MakePolicy("migrations", Action("db_v?_migrate")));
  policies.back().approvers = {"dba"};

  policies.push_back(MakePolicy("cleanup", Action("cleanup_*")));
  policies.back().decision = AutoDecision::kApprove;

  std::map<std::string, std::vector<std::string>> groups = {
      {"sre", {"alice", "bob", "carol"}},
      {"sre-leads", {"dave"}},
      {"oncall", {"group:sre", "erin"}},
      {"platform", {}},
  };
  return PolicySet(std::move(policies), std::move(groups), PolicySet::DefaultHighRiskActions());
}

struct Row {
  std::string action;
  std::string requester;
  std::string tenant;
  std::string risk;
  // expected
  std::string policy;
  int quorum;
  std::vector<std::string> approvers;
  AutoDecision decision;
  bool high_risk;
};

const AutoDecision kNone = AutoDecision::kNone;
const AutoDecision kApprove = AutoDecision::kApprove;
const AutoDecision kDeny = AutoDecision::kDeny;

TEST(PolicySetTest, EvaluatesEveryRowOfTheTable) {
  const PolicySet set = TestPolicies();
  const std::vector<Row> rows = {
      // First match wins: ci-reads comes before reads.
      {"read_logs", "ci-bot", "default", "", "ci-reads", 1, {}, kApprove, false},
      {"read_logs", "alice", "default", "", "reads", 1, {}, kApprove, false},
      // freeze is first and matches on tenant alone, whatever the action.
      {"read_logs", "ci-bot", "frozen", "", "freeze", 1, {}, kDeny, false},
      {"deploy_production", "ci-bot", "frozen", "", "freeze", 1, {}, kDeny, true},
      // A policy with risk = "high" makes the request high risk.
      {"deploy_staging", "ci-bot", "default", "", "prod-deploys", 2, {"group:sre"}, kNone, true},
      {"deploy_production", "ci-bot", "default", "", "prod-deploys", 2, {"group:sre"}, kNone, true},
      // match.risk: declared high, or an action on the high-risk list, counts as high.
      {"restart_service",
       "ci-bot",
       "acme",
       "high",
       "acme-high",
       2,
       {"alice", "bob", "carol"},
       kNone,
       true},
      {"wipe_cache", "ci-bot", "acme", "", "acme-high", 2, {"alice", "bob", "carol"}, kNone, true},
      {"restart_service", "ci-bot", "acme", "", "default", 1, {}, kNone, false},
      {"restart_service", "ci-bot", "acme", "normal", "default", 1, {}, kNone, false},
      {"wipe_cache", "ci-bot", "other", "", "default", 1, {}, kNone, true},
      // '?' is exactly one character.
      {"db_v2_migrate", "ci-bot", "default", "", "migrations", 1, {"dba"}, kNone, false},
      {"db_v10_migrate", "ci-bot", "default", "", "default", 1, {}, kNone, false},
      // An automatic approval never applies to high risk; the request goes to people.
      {"cleanup_tmp", "ci-bot", "default", "", "cleanup", 1, {}, kApprove, false},
      {"cleanup_production", "ci-bot", "default", "", "cleanup", 1, {}, kNone, true},
      {"read_production_db", "alice", "default", "", "reads", 1, {}, kNone, true},
      {"read_logs", "alice", "default", "high", "reads", 1, {}, kNone, true},
      // Declaring "normal" does not lower a listed action; the list ignores case.
      {"DROP_DATABASE_users", "alice", "default", "normal", "default", 1, {}, kNone, true},
      // Globs are case-sensitive for matching policies.
      {"Read_logs", "alice", "default", "", "default", 1, {}, kNone, false},
      // Nothing matched: the built-in default.
      {"send_email", "", "", "", "default", 1, {}, kNone, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.action + " by " + row.requester + " in " + row.tenant + " risk " + row.risk);
    const PolicyVerdict verdict = set.Evaluate({row.action, row.requester, row.tenant, row.risk});
    ASSERT_NE(verdict.policy, nullptr);
    EXPECT_EQ(verdict.policy->name, row.policy);
    EXPECT_EQ(verdict.policy->quorum, row.quorum);
    EXPECT_EQ(verdict.policy->approvers, row.approvers);
    EXPECT_EQ(verdict.decision, row.decision);
    EXPECT_EQ(verdict.high_risk, row.high_risk);
  }
}

TEST(PolicySetTest, ReasonNamesThePolicyAndTheConditionsThatHeld) {
  const PolicySet set = TestPolicies();
  EXPECT_EQ(set.Evaluate({"read_logs", "ci-bot", "default", ""}).reason,
            "matched ci-reads: action read_* ~ read_logs, requester ci-* ~ ci-bot");
  EXPECT_EQ(set.Evaluate({"deploy_staging", "ci-bot", "default", ""}).reason,
            "matched prod-deploys: action deploy_* ~ deploy_staging; high risk: policy "
            "prod-deploys has risk high");
  EXPECT_EQ(set.Evaluate({"wipe_cache", "ci-bot", "acme", ""}).reason,
            "matched acme-high: tenant acme ~ acme, risk high; high risk: action wipe_cache is on "
            "the high-risk list (wipe_*)");
  EXPECT_EQ(set.Evaluate({"send_email", "bob", "default", ""}).reason,
            "no policy matched; built-in default");
  EXPECT_EQ(set.Evaluate({"read_logs", "alice", "default", "high"}).reason,
            "matched reads: action read_* ~ read_logs; high risk: the request declared risk "
            "high; automatic approval withheld: a high-risk request needs a person");
}

TEST(PolicySetTest, CatchAllPolicySaysItMatchesEverything) {
  const PolicySet set({MakePolicy("everything", PolicyMatch{})}, {}, {});
  const PolicyVerdict verdict = set.Evaluate({"x", "y", "z", ""});
  EXPECT_EQ(verdict.policy->name, "everything");
  EXPECT_EQ(verdict.reason, "matched everything: matches every request");
}

TEST(PolicySetTest, BuiltInDefaultIsLastAndAsksAnyApproverOnce) {
  const PolicySet set;
  EXPECT_TRUE(set.policies().empty());
  const PolicyVerdict verdict = set.Evaluate({"send_email", "ci-bot", "default", ""});
  ASSERT_EQ(verdict.policy, &set.default_policy());
  const Policy& policy = *verdict.policy;
  EXPECT_EQ(policy.name, "default");
  EXPECT_EQ(policy.source, "built-in");
  EXPECT_EQ(policy.quorum, 1);
  EXPECT_EQ(policy.deny_threshold, 1);
  EXPECT_TRUE(policy.approvers.empty());
  EXPECT_EQ(policy.timeout, std::chrono::seconds(300));
  EXPECT_EQ(policy.on_timeout, OnTimeout::kExpire);
  EXPECT_TRUE(policy.escalate_to.empty());
  EXPECT_EQ(policy.decision, AutoDecision::kNone);
  EXPECT_FALSE(policy.remind_every.has_value());
}

TEST(PolicySetTest, BuiltInHighRiskListCatchesDestructiveNames) {
  const PolicySet set;
  for (const char* action :
       {"rm_rf_tmp", "wipe_disk", "drop_database", "db.drop_database.users", "pg_drop_table",
        "delete_all_users", "git_force_push", "deploy_production", "transfer_funds", "disable_mfa",
        "grant_admin_role", "Deploy_Production"}) {
    EXPECT_TRUE(set.IsHighRiskAction(action)) << action;
  }
  for (const char* action : {"read_logs", "deploy_staging", "delete_user", "rm_tmp", ""}) {
    EXPECT_FALSE(set.IsHighRiskAction(action)) << action;
  }
  ASSERT_NE(set.HighRiskPattern("deploy_production"), nullptr);
  EXPECT_EQ(*set.HighRiskPattern("deploy_production"), "*production*");
}

TEST(PolicySetTest, ConfiguredHighRiskListReplacesTheBuiltInOne) {
  const PolicySet custom({}, {}, {"nuke_*"});
  EXPECT_TRUE(custom.IsHighRiskAction("nuke_it"));
  EXPECT_FALSE(custom.IsHighRiskAction("deploy_production"));
  EXPECT_FALSE(custom.Evaluate({"deploy_production", "ci", "default", ""}).high_risk);
  const PolicySet none({}, {}, {});
  EXPECT_FALSE(none.IsHighRiskAction("rm_rf_everything"));
  EXPECT_TRUE(none.Evaluate({"anything", "ci", "default", "high"}).high_risk);
}

TEST(PolicySetTest, SatisfiesNamesStarsAndGroups) {
  const PolicySet set = TestPolicies();
  const std::vector<std::string> no_groups;
  EXPECT_TRUE(set.Satisfies("alice", "alice", no_groups));
  EXPECT_FALSE(set.Satisfies("alice", "bob", no_groups));
  EXPECT_FALSE(set.Satisfies("alice", "Alice", no_groups));
  EXPECT_TRUE(set.Satisfies("*", "anyone", no_groups));
  EXPECT_FALSE(set.Satisfies("*", "", no_groups));
  EXPECT_FALSE(set.Satisfies("", "alice", no_groups));
  EXPECT_TRUE(set.Satisfies("group:sre", "bob", no_groups));
  EXPECT_FALSE(set.Satisfies("group:sre", "dave", no_groups));
  EXPECT_FALSE(set.Satisfies("group:", "alice", no_groups));
  EXPECT_FALSE(set.Satisfies("group:unknown", "alice", no_groups));
  // A group the principal's token carries counts as much as one from the config.
  EXPECT_TRUE(set.Satisfies("group:platform", "frank", {"platform"}));
  EXPECT_FALSE(set.Satisfies("group:platform", "frank", {"sre"}));
  EXPECT_TRUE(set.Satisfies("group:unknown", "frank", {"unknown"}));
  // "group:sre" is not a principal name that happens to match.
  EXPECT_FALSE(set.Satisfies("sre", "alice", {"sre"}));
}

TEST(PolicySetTest, NestedGroupsExpandOneLevel) {
  const PolicySet set = TestPolicies();
  EXPECT_TRUE(set.InGroup("alice", "oncall"));
  EXPECT_TRUE(set.InGroup("erin", "oncall"));
  EXPECT_FALSE(set.InGroup("dave", "oncall"));
  EXPECT_FALSE(set.InGroup("alice", "nope"));
  EXPECT_FALSE(set.InGroup("", "sre"));
  EXPECT_TRUE(set.Satisfies("group:oncall", "carol", {}));
  EXPECT_EQ(set.Members("oncall"), (std::vector<std::string>{"alice", "bob", "carol", "erin"}));
  EXPECT_EQ(set.Members("platform"), std::vector<std::string>{});
  EXPECT_EQ(set.Members("nope"), std::vector<std::string>{});
}

struct GlobCase {
  const char* pattern;
  const char* text;
  bool matches;
};

TEST(GlobMatchTest, EdgeCases) {
  const GlobCase cases[] = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything at all", true},
      {"**", "", true},
      {"?", "", false},
      {"?", "a", true},
      {"?", "ab", false},
      {"?*?", "ab", true},
      {"?*?", "a", false},
      {"deploy_*", "deploy_", true},
      {"deploy_*", "deploy", false},
      {"deploy_*", "xdeploy_prod", false},
      {"*_prod", "deploy_prod", true},
      {"*_prod", "deploy_prod2", false},
      {"a*b*c", "abbbc", true},
      {"a*b*c", "acb", false},
      {"a*b", "a", false},
      {"*a*", "banana", true},
      {"Deploy_*", "deploy_x", false},
      {"exact", "exact", true},
      {"exact", "exactly", false},
      // A '*' in the text is an ordinary character to match.
      {"*x", "*ax", true},
      {"a\\*", "a\\b", true},
      // Backtracking stays linear, and still fails where it must.
      {"a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
      {"*ab*ab*", "xxabyyabzz", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.matches) << c.pattern << " ~ " << c.text;
  }
}

}  // namespace
}  // namespace countersign
