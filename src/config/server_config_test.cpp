#include "config/server_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "config/duration.hpp"
#include "config/oidc_config.hpp"
#include "config/policy_config.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using std::chrono::seconds;

class ServerConfigTest : public ::testing::Test {
 protected:
  // Writes `text` to a fresh file and returns its path.
  std::string Write(const std::string& text) {
    const std::string path = dir_.File("countersign.toml");
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  testing::TempDir dir_;
};

constexpr const char* kGoodFile = R"toml([server]
listen = "127.0.0.1:7999"

[groups]
sre = ["alice", "bob", "carol"]
sre-leads = ["dave"]
oncall = ["group:sre", "erin"]
platform = []

[risk]
high_risk_actions = ["nuke_*", "*production*"]

[limits]
rate_per_principal = "60/1m"
rate_per_action = "600/m"

[[policy]]
name = "prod-deploys"
match = { action = "deploy_*", tenant = "acme" }
risk = "high"
quorum = 3
deny_threshold = 2
approvers = ["group:sre"]
timeout = "15m"
on_timeout = "escalate"
escalate_to = [
  { approvers = ["group:sre-leads", "frank"], timeout = "10m", notify = ["pager"] },
  "group:oncall",
]
notify = ["slack-ops"]
remind_every = "5m"

[[policy]]
name = "reads"
match = { action = "read_*", requester = "ci-*", risk = "normal" }
decision = "approve"
timeout = 90

[[policy]]
name = "catch-all"
approvers = ["alice", "bob"]
quorum = 2
timeout = "1h30m"
on_timeout = "deny"
escalate_to = ["group:platform"]

[[channel]]
name = "slack-ops"
type = "webhook"
url = "https://slack-ops.example.com/hook"
secret = "0123456789abcdef0123"

[[channel]]
name = "pager"
type = "webhook"
url = "https://pager.example.com/hook"
secret = "0123456789abcdef0123"
)toml";

TEST_F(ServerConfigTest, GoodFileLoadsEveryPolicySetting) {
  const std::string path = Write(kGoodFile);
  auto loaded = LoadConfigFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const PolicySet& set = *loaded->policies;
  ASSERT_EQ(set.policies().size(), 3u);

  const Policy& deploys = set.policies()[0];
  EXPECT_EQ(deploys.name, "prod-deploys");
  EXPECT_EQ(deploys.source, path + ":17");
  EXPECT_EQ(deploys.match.action, "deploy_*");
  EXPECT_EQ(deploys.match.requester, "*");
  EXPECT_EQ(deploys.match.tenant, "acme");
  EXPECT_EQ(deploys.match.risk, "");
  EXPECT_EQ(deploys.risk, "high");
  EXPECT_EQ(deploys.quorum, 3);
  EXPECT_EQ(deploys.deny_threshold, 2);
  EXPECT_EQ(deploys.approvers, std::vector<std::string>{"group:sre"});
  EXPECT_EQ(deploys.timeout, seconds(900));
  EXPECT_EQ(deploys.on_timeout, OnTimeout::kEscalate);
  ASSERT_EQ(deploys.escalate_to.size(), 2u);
  EXPECT_EQ(deploys.escalate_to[0].approvers,
            (std::vector<std::string>{"group:sre-leads", "frank"}));
  EXPECT_EQ(deploys.escalate_to[0].timeout, seconds(600));
  EXPECT_EQ(deploys.escalate_to[0].notify, std::vector<std::string>{"pager"});
  EXPECT_EQ(deploys.escalate_to[1].approvers, std::vector<std::string>{"group:oncall"});
  EXPECT_EQ(deploys.escalate_to[1].timeout, seconds(0));
  EXPECT_TRUE(deploys.escalate_to[1].notify.empty());
  EXPECT_EQ(deploys.notify, std::vector<std::string>{"slack-ops"});
  EXPECT_EQ(deploys.decision, AutoDecision::kNone);
  EXPECT_EQ(deploys.remind_every, seconds(300));

  const Policy& reads = set.policies()[1];
  EXPECT_EQ(reads.match.requester, "ci-*");
  EXPECT_EQ(reads.match.risk, "normal");
  EXPECT_EQ(reads.decision, AutoDecision::kApprove);
  EXPECT_EQ(reads.timeout, seconds(90));
  EXPECT_EQ(reads.risk, "normal");

  const Policy& catch_all = set.policies()[2];
  EXPECT_EQ(catch_all.match.action, "*");
  EXPECT_EQ(catch_all.timeout, seconds(5400));
  EXPECT_EQ(catch_all.on_timeout, OnTimeout::kDeny);
  EXPECT_FALSE(catch_all.remind_every.has_value());

  EXPECT_EQ(set.groups().at("oncall"), (std::vector<std::string>{"group:sre", "erin"}));
  EXPECT_TRUE(set.groups().at("platform").empty());
  EXPECT_TRUE(set.InGroup("bob", "oncall"));
  EXPECT_EQ(set.high_risk_actions(), (std::vector<std::string>{"nuke_*", "*production*"}));
  EXPECT_TRUE(set.IsHighRiskAction("nuke_it"));
  EXPECT_FALSE(set.IsHighRiskAction("rm_rf_root"));  // the built-in list was replaced

  EXPECT_EQ(loaded->limits.per_principal, 60);
  EXPECT_EQ(loaded->limits.principal_window, seconds(60));
  EXPECT_EQ(loaded->limits.per_action, 600);
  EXPECT_EQ(loaded->limits.action_window, seconds(60));

  EXPECT_EQ(set.Evaluate({"deploy_api", "ci-bot", "acme", ""}).policy->name, "prod-deploys");
  EXPECT_EQ(set.Evaluate({"read_logs", "ci-bot", "default", ""}).policy->name, "reads");
  EXPECT_EQ(set.Evaluate({"read_logs", "alice", "default", ""}).policy->name, "catch-all");
}

TEST_F(ServerConfigTest, ServeGetsThePoliciesAndLimitsOfItsConfigFile) {
  ServeOptions options;
  options.given["config"] = Write(kGoodFile);
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen_port, 7999);
  ASSERT_NE(config->policies, nullptr);
  EXPECT_EQ(config->policies->policies().size(), 3u);
  EXPECT_EQ(config->limits.per_action, 600);
}

TEST_F(ServerConfigTest, NoFileMeansTheBuiltInPolicyAndNoLimits) {
  auto config = LoadServerConfig(ServeOptions{});
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_NE(config->policies, nullptr);
  EXPECT_TRUE(config->policies->policies().empty());
  EXPECT_EQ(config->policies->high_risk_actions(), PolicySet::DefaultHighRiskActions());
  // Bounded by default: one agent cannot pile up requests without end.
  EXPECT_EQ(config->limits.per_principal, 600);
  EXPECT_EQ(config->limits.principal_window, seconds(60));
  EXPECT_EQ(config->limits.per_action, 0);
  EXPECT_EQ(config->limits.max_pending_per_principal, 1000);
  EXPECT_EQ(config->limits.idempotency_ttl, std::chrono::hours(24));
  EXPECT_EQ(config->limits.max_connections, 0);
  EXPECT_EQ(config->limits.max_connections_per_ip, 0);

  ServeOptions server_only;
  server_only.given["config"] = Write("[server]\nthreads = 2\n");
  auto loaded = LoadServerConfig(server_only);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_NE(loaded->policies, nullptr);
  EXPECT_TRUE(loaded->policies->policies().empty());
  auto policies = LoadPolicyFile(server_only.given["config"]);
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  ASSERT_NE(policies.value(), nullptr);
}

TEST_F(ServerConfigTest, GroupsUsedThroughMoreApproversThanQuorumAreNotCounted) {
  // A group's size is not known (tokens may carry it), so only listed names are counted.
  auto loaded = LoadPolicyFile(
      Write("[groups]\nsre = []\n[[policy]]\nname = \"a\"\napprovers = [\"group:sre\"]\n"
            "quorum = 5\n[[policy]]\nname = \"b\"\napprovers = [\"*\"]\nquorum = 3\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
}

TEST_F(ServerConfigTest, PolicyWithoutTimeoutTakesTheServerDefault) {
  auto plain = LoadPolicyFile(Write("[[policy]]\nname = \"a\"\n"));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain.value()->policies()[0].timeout, seconds(300));
  // [server] may come after the policies; it still applies to them.
  auto configured =
      LoadPolicyFile(Write("[[policy]]\nname = \"a\"\n[[policy]]\nname = \"b\"\ntimeout = \"1m\"\n"
                           "[server]\ndefault_timeout_seconds = 120\n"));
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  EXPECT_EQ(configured.value()->policies()[0].timeout, seconds(120));
  EXPECT_EQ(configured.value()->policies()[1].timeout, seconds(60));
}

TEST_F(ServerConfigTest, MaxTimeoutCapsAndAnInheritedTimeoutFollowsIt) {
  auto loaded =
      LoadPolicyFile(Write("[[policy]]\nname = \"a\"\nmax_timeout = \"1m\"\n"
                           "[[policy]]\nname = \"b\"\ntimeout = \"30s\"\nmax_timeout = \"2h\"\n"
                           "[[policy]]\nname = \"c\"\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const auto& policies = loaded.value()->policies();
  EXPECT_EQ(policies[0].timeout, seconds(60));  // the server default (300 s), held to the cap
  EXPECT_EQ(policies[0].max_timeout, seconds(60));
  EXPECT_EQ(policies[1].timeout, seconds(30));
  EXPECT_EQ(policies[1].max_timeout, seconds(7200));
  EXPECT_EQ(policies[2].max_timeout, std::nullopt);
}

TEST_F(ServerConfigTest, GrantOptionsReceiptUseAndReportWithinAreReadWithTheirDefaults) {
  auto loaded = LoadPolicyFile(
      Write("[[policy]]\nname = \"a\"\n"
            "[[policy]]\nname = \"b\"\ngrant_options = [\"requester:7d\", \"session:15m\"]\n"
            "receipt = \"single_use\"\nreport_within = \"10m\"\n"
            "[[policy]]\nname = \"c\"\ngrant_options = []\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const auto& policies = loaded.value()->policies();
  EXPECT_EQ(
      policies[0].grant_options,
      (std::vector<GrantOption>{{"session", seconds(3600)}, {"requester", seconds(30 * 86400)}}));
  EXPECT_EQ(policies[0].receipt_use, "reusable");
  EXPECT_EQ(policies[0].report_within, seconds(0));
  EXPECT_EQ(policies[1].grant_options, (std::vector<GrantOption>{{"requester", seconds(7 * 86400)},
                                                                 {"session", seconds(900)}}));
  EXPECT_EQ(policies[1].receipt_use, "single_use");
  EXPECT_EQ(policies[1].report_within, seconds(600));
  EXPECT_TRUE(policies[2].grant_options.empty());
}

TEST_F(ServerConfigTest, NotifyEntriesNameAChannelOrAChannelType) {
  auto loaded = LoadPolicyFile(
      Write("[[channel]]\nname = \"mail\"\ntype = \"email\"\nsmtp_url = \"smtp://127.0.0.1:2525\"\n"
            "from = \"cs@example.com\"\n"
            "[[policy]]\nname = \"a\"\nnotify = [\"mail\", \"email:bob@example.com\"]\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded.value()->policies()[0].notify,
            (std::vector<std::string>{"mail", "email:bob@example.com"}));
}

struct BadFile {
  const char* text;
  const char* error;  // what the message must start with, after "<path>:"
};

TEST_F(ServerConfigTest, EachInvalidFileNamesItsLineAndKey) {
  const BadFile cases[] = {
      {"[[policy]]\nname = \"a\"\nquorom = 2\n", "3: policy[0].quorom: unknown key"},
      {"[[policy]]\nname = \"a\"\ngrant_options = [\"forever\"]\n",
       "3: policy[0].grant_options[0] must be \"session:DURATION\" or \"requester:DURATION\""},
      {"[[policy]]\nname = \"a\"\ngrant_options = [\"session:1h\", \"session:2h\"]\n",
       "3: policy[0].grant_options[1]: session is listed twice"},
      {"[[policy]]\nname = \"a\"\ngrant_options = [\"session:1.5h\"]\n",
       "3: policy[0].grant_options[0]"},
      {"[[policy]]\nname = \"a\"\nreceipt = \"twice\"\n",
       "3: policy[0].receipt must be \"reusable\" or \"single_use\", got 'twice'"},
      {"[[policy]]\nname = \"a\"\n\n[[policy]]\nname = \"b\"\nquorum = 0\n",
       "6: policy[1].quorum must be 1-100"},
      {"[[policy]]\nname = \"a\"\nquorum = 101\n", "3: policy[0].quorum must be 1-100"},
      {"[[policy]]\nname = \"a\"\nquorum = \"2\"\n", "3: policy[0].quorum must be an integer"},
      {"[[policy]]\nquorum = 1\n", "1: policy[0].name is required"},
      {"[[policy]]\nname = \"\"\n", "2: policy[0].name must be a non-empty string"},
      {"[[policy]]\nname = \"a\"\n[[policy]]\nname = \"a\"\n",
       "4: policy[1].name: 'a' is already the name of policy[0]"},
      {"[[policy]]\nname = \"default\"\n", "2: policy[0].name: \"default\" is the name of"},
      {"[[policy]]\nname = \"a\"\nrisk = \"high\"\ndecision = \"approve\"\n",
       "4: policy[0].decision: a high-risk policy can never be auto-approved"},
      {"[[policy]]\nname = \"a\"\ndecision = \"maybe\"\n",
       "3: policy[0].decision must be \"approve\" or \"deny\", got 'maybe'"},
      {"[[policy]]\nname = \"a\"\non_timeout = \"escalate\"\n",
       "3: policy[0].on_timeout: on_timeout = \"escalate\" needs escalate_to"},
      {"[[policy]]\nname = \"a\"\non_timeout = \"explode\"\n",
       "3: policy[0].on_timeout must be \"expire\" or \"deny\" or \"escalate\", got 'explode'"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"alice\", \"bob\"]\nquorum = 3\n",
       "4: policy[0].quorum 3 is more than the 2 listed approvers"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"alice\"]\ndeny_threshold = 2\n",
       "4: policy[0].deny_threshold 2 is more than the 1 listed approvers"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"alice\",\n  \"group:nope\"]\n",
       "4: policy[0].approvers[1]: group 'nope' is not defined in [groups]"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"group:\"]\n",
       "3: policy[0].approvers[0]: \"group:\" needs a group name"},
      {"[[policy]]\nname = \"a\"\napprovers = \"alice\"\n",
       "3: policy[0].approvers must be an array of strings"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"alice\", \"alice\"]\n",
       "3: policy[0].approvers[1]: 'alice' is listed twice"},
      {"[[policy]]\nname = \"a\"\napprovers = [\"alice\", 7]\n",
       "3: policy[0].approvers[1] must be a non-empty string"},
      {"[[policy]]\nname = \"a\"\non_timeout = \"escalate\"\nescalate_to = [\"group:nope\"]\n",
       "4: policy[0].escalate_to[0]: group 'nope' is not defined"},
      {"[[policy]]\nname = \"a\"\nescalate_to = [{ timeout = \"5m\" }]\n",
       "3: policy[0].escalate_to[0].approvers is required"},
      {"[[policy]]\nname = \"a\"\nescalate_to = [{ approvers = [\"bob\"], when = \"5m\" }]\n",
       "3: policy[0].escalate_to[0].when: unknown key"},
      {"[[policy]]\nname = \"a\"\nescalate_to = [{ approvers = [\"bob\"], timeout = \"0s\" }]\n",
       "3: policy[0].escalate_to[0].timeout must be between 1s and 30d"},
      {"[[policy]]\nname = \"a\"\nescalate_to = \"bob\"\n",
       "3: policy[0].escalate_to must be an array"},
      {"[[policy]]\nname = \"a\"\ntimeout = \"15 minutes\"\n",
       "3: policy[0].timeout must be a duration like"},
      {"[[policy]]\nname = \"a\"\ntimeout = \"31d\"\n",
       "3: policy[0].timeout must be between 1s and 30d"},
      {"[[policy]]\nname = \"a\"\ntimeout = 0\n",
       "3: policy[0].timeout must be between 1s and 30d"},
      {"[[policy]]\nname = \"a\"\ntimeout = 1.5\n", "3: policy[0].timeout must be a duration"},
      {"[[policy]]\nname = \"a\"\ntimeout = \"2h\"\nmax_timeout = \"1h\"\n",
       "3: policy[0].timeout 2h is more than max_timeout 1h"},
      {"[[policy]]\nname = \"a\"\nmax_timeout = \"31d\"\n",
       "3: policy[0].max_timeout must be between 1s and 30d"},
      {"[[policy]]\nname = \"a\"\nnotify = [\"slak-ops\"]\n",
       "3: policy[0].notify[0]: no [[channel]] is named 'slak-ops' (no channels are configured)"},
      {"[[channel]]\nname = \"slack-ops\"\ntype = \"webhook\"\nurl = \"https://a.example.com/\"\n"
       "secret = \"0123456789abcdef\"\n[[policy]]\nname = \"a\"\nnotify = [\"slack-ops\",\n"
       "  \"email:bob@example.com\"]\n",
       "9: policy[0].notify[1]: 'email:bob@example.com' needs a [[channel]] of type 'email', and "
       "there is none"},
      {"[[channel]]\nname = \"slack-ops\"\ntype = \"webhook\"\nurl = \"https://a.example.com/\"\n"
       "secret = \"0123456789abcdef\"\n[[policy]]\nname = \"a\"\non_timeout = \"escalate\"\n"
       "escalate_to = [{ approvers = [\"bob\"], notify = [\"pagr\"] }]\n",
       "9: policy[0].escalate_to[0].notify[0]: no [[channel]] is named 'pagr' (the channels are "
       "slack-ops)"},
      {"[[policy]]\nname = \"a\"\nremind_every = \"often\"\n",
       "3: policy[0].remind_every must be a duration"},
      {"[[policy]]\nname = \"a\"\nrisk = \"medium\"\n",
       "3: policy[0].risk must be \"normal\" or \"high\", got 'medium'"},
      {"[[policy]]\nname = \"a\"\nmatch = { acton = \"x\" }\n",
       "3: policy[0].match.acton: unknown key"},
      {"[[policy]]\nname = \"a\"\nmatch = { action = \"deploy prod\" }\n",
       "3: policy[0].match.action: 'deploy prod' can never match an action name"},
      {"[[policy]]\nname = \"a\"\nmatch = { risk = \"severe\" }\n",
       "3: policy[0].match.risk must be"},
      {"[[policy]]\nname = \"a\"\nmatch = \"deploy_*\"\n", "3: policy[0].match must be a table"},
      {"[[policy]]\nname = \"a\"\n[policy.match]\naction = \"x\"\ntenant = 3\n",
       "5: policy[0].match.tenant must be a non-empty string"},
      {"policy = \"x\"\n", "1: policy must be a list of [[policy]] tables"},
      {"[groups]\na = [\"group:b\"]\nb = [\"group:a\"]\n",
       "2: groups.a[0]: groups 'a' and 'b' include each other (a cycle)"},
      {"[groups]\na = [\"x\", \"group:a\"]\n", "2: groups.a[1]: group 'a' includes itself"},
      {"[groups]\na = [\"group:b\"]\nb = [\"group:c\"]\nc = [\"x\"]\n",
       "2: groups.a[0]: group 'b' itself includes a group; groups nest one level deep"},
      {"[groups]\na = [\"group:zz\"]\n", "2: groups.a[0]: group 'zz' is not defined"},
      {"[groups]\na = [\"*\"]\n", "2: groups.a[0]: '*' can not be a group member"},
      {"[groups]\na = \"alice\"\n", "2: groups.a must be an array of strings"},
      {"[groups]\n\"a b\" = [\"alice\"]\n", "2: groups.a b: a group name is letters"},
      {"groups = 1\n", "1: groups must be a table"},
      {"[risk]\nhigh_risk = [\"x\"]\n", "2: risk.high_risk: unknown key"},
      {"[risk]\nhigh_risk_actions = \"x\"\n",
       "2: risk.high_risk_actions must be an array of strings"},
      {"[limits]\nrate_per_principal = \"lots\"\n",
       "2: limits.rate_per_principal must be \"N/WINDOW\" like \"60/1m\""},
      {"[limits]\nrate_per_action = 60\n", "2: limits.rate_per_action must be \"N/WINDOW\""},
      {"[limits]\nrate_per_action = \"60/2d\"\n", "2: limits.rate_per_action must be"},
      {"[limits]\nburst = 5\n", "2: limits.burst: unknown key"},
      {"[channel]\nname = \"x\"\n", "1: channel must be an array of tables ([[channel]])"},
      {"[[channel]]\ntype = \"slack\"\n", "1: channel[0].name is required"},
      {"[[channel]]\nname = \"a\"\ntype = \"teams\"\n[[channel]]\nname = \"a\"\n"
       "type = \"teams\"\n",
       "4: channel[1].name 'a' is used twice"},
      {"[[channel]]\nname = \"a\"\ntype = \"slack\"\nbot_token = \"env:CS_TEST_NO_SUCH_VAR\"\n",
       "4: channel[0].bot_token: environment variable CS_TEST_NO_SUCH_VAR is not set"},
      {"[[webhook]]\nname = \"w\"\nurl = \"http://127.0.0.1:1/\"\n",
       "1: webhook[0].secret is required"},
      {"[[webhook]]\nname = \"w\"\nurl = \"ftp://x/\"\nsecret = \"0123456789abcdef\"\n",
       "1: webhook[0].url must be an http:// or https:// URL"},
      {"[identities]\nalice = \"alice\"\n", "2: identities.\"alice\": a chat identity is"},
      {"[outbox]\nretry_base = \"fast\"\n", "2: outbox.retry_base must be a duration"},
      {"[outbox]\nmax_attempts = 0\n", "2: outbox.max_attempts must be an integer 1-100"},
      {"[server]\nthreads = \"4\"\n", "2: server.threads must be an integer"},
      {"server = 1\n", "1: server must be a table"},
      {"[[policy]]\nname = \"a\"\nquorum = \n", "3: "},
      {"[ui.oidc]\nissuer = \"https://idp.example.com\"\nclient_secret = \"x\"\n",
       "1: ui.oidc.client_id is required"},
      {"[ui.oidc]\nclient_id = \"c\"\nclient_secret = \"x\"\n", "1: ui.oidc.issuer is required"},
      {"[ui.oidc]\nissuer = \"http://idp.example.com\"\n",
       "2: ui.oidc.issuer must be an https URL (http only for a loopback host)"},
      {"[ui.oidc]\nissuer = \"https://idp.example.com#x\"\n",
       "2: ui.oidc.issuer must be an https URL with no query or fragment"},
      {"[ui.oidc]\nrole = \"agent\"\n",
       "2: ui.oidc.role must be \"approver\" or \"admin\" (never \"agent\")"},
      {"[ui.oidc]\nscopes = [\"email\"]\n", "2: ui.oidc.scopes must include \"openid\""},
      {"[ui.oidc]\nallowed_groups = []\n", "2: ui.oidc.allowed_groups must not be empty"},
      {"[ui.oidc]\nclient_auth = \"private_key_jwt\"\n",
       "2: ui.oidc.client_auth must be \"client_secret_basic\" or \"client_secret_post\""},
      {"[ui.oidc]\nclient_secret = \"env:CS_TEST_NO_SUCH_VAR\"\n",
       "2: ui.oidc.client_secret: environment variable CS_TEST_NO_SUCH_VAR is not set"},
      {"[ui.oidc]\nissuer_url = \"x\"\n", "2: ui.oidc.issuer_url: unknown key"},
      {"[ui]\ntheme = \"dark\"\n", "2: ui.theme: unknown key (the [ui] table holds only"},
      {"ui = 1\n", "1: ui must be a table"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string path = Write(c.text);
    auto loaded = LoadPolicyFile(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, ErrorCode::kInvalid);
    const std::string expected = path + ":" + c.error;
    EXPECT_EQ(loaded.error().message.substr(0, expected.size()), expected)
        << loaded.error().message;
    // `serve --config` stops on the same message.
    ServeOptions options;
    options.given["config"] = path;
    auto served = LoadServerConfig(options);
    ASSERT_FALSE(served.ok());
    EXPECT_EQ(served.error().message, loaded.error().message);
  }
}

TEST_F(ServerConfigTest, OidcSignInIsOffWithoutItsTableAndTakesItsDefaults) {
  ServeOptions options;
  options.given["config"] = Write("[server]\nthreads = 2\n");
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->oidc);

  options.given["config"] = Write(
      "[ui.oidc]\nissuer = \"http://127.0.0.1:9000/realms/x/\"\nclient_id = \"cs\"\n"
      "client_secret = \"s\"\n");
  config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->oidc);
  const OidcSettings& oidc = *config->oidc;
  EXPECT_EQ(oidc.issuer, "http://127.0.0.1:9000/realms/x/") << "kept exactly as written";
  EXPECT_EQ(oidc.client_secret, "s");
  EXPECT_EQ(oidc.client_auth, OidcClientAuth::kSecretBasic);
  EXPECT_EQ(oidc.scopes, (std::vector<std::string>{"openid", "profile", "email"}));
  EXPECT_EQ(oidc.principal_claim, "email");
  EXPECT_EQ(oidc.groups_claim, "groups");
  EXPECT_EQ(oidc.role, Role::kApprover);
  EXPECT_EQ(oidc.tenant, "default");
  EXPECT_TRUE(oidc.allowed_groups.empty());

  // Without client_secret, the variable supplies it; without either, start-up stops.
  const std::string no_secret = Write(
      "[ui.oidc]\nissuer = \"https://idp.example.com\"\nclient_id = \"cs\"\nrole = \"admin\"\n"
      "allowed_groups = [\"sre\"]\nclient_auth = \"client_secret_post\"\n");
  options.given["config"] = no_secret;
  ::unsetenv(kOidcClientSecretVariable);
  auto refused = LoadServerConfig(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find(
                "ui.oidc.client_secret is required (or set COUNTERSIGN_OIDC_CLIENT_SECRET)"),
            std::string::npos)
      << refused.error().message;
  ::setenv(kOidcClientSecretVariable, "from-env", 1);
  config = LoadServerConfig(options);
  ::unsetenv(kOidcClientSecretVariable);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->oidc->client_secret, "from-env");
  EXPECT_EQ(config->oidc->role, Role::kAdmin);
  EXPECT_EQ(config->oidc->client_auth, OidcClientAuth::kSecretPost);
  EXPECT_EQ(config->oidc->allowed_groups, std::vector<std::string>{"sre"});
}

TEST_F(ServerConfigTest, PublicUrlIsNormalisedAndTheFlagWinsOverTheFile) {
  ServeOptions options;
  options.given["config"] = Write("[server]\npublic_url = \"HTTPS://Approvals.Example.com/cs\"\n");
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->public_url, "https://approvals.example.com/cs");
  options.given["public_url"] = "http://127.0.0.1:8080";
  EXPECT_EQ(LoadServerConfig(options)->public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(LoadServerConfig(ServeOptions{})->public_url, "");  // derived once listening
}

TEST_F(ServerConfigTest, AnInvalidPublicUrlNamesItsSource) {
  ServeOptions options;
  options.given["config"] = Write("[server]\n\npublic_url = \"https://example.com/\"\n");
  auto config = LoadServerConfig(options);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("countersign.toml:3: server.public_url"), std::string::npos)
      << config.error().message;
  ServeOptions flag;
  flag.given["public_url"] = "ftp://example.com";
  auto flagged = LoadServerConfig(flag);
  ASSERT_FALSE(flagged.ok());
  EXPECT_EQ(flagged.error().message.rfind("--public-url", 0), 0u) << flagged.error().message;
}

TEST_F(ServerConfigTest, StreamSettingsComeFromTheFileAndTheFlagsWin) {
  EXPECT_EQ(LoadServerConfig(ServeOptions{})->stream_queue, 1000);
  EXPECT_EQ(LoadServerConfig(ServeOptions{})->stream_heartbeat, seconds(15));
  ServeOptions options;
  options.given["config"] = Write("[server]\nstream_queue = 50\nstream_heartbeat_seconds = 5\n");
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->stream_queue, 50);
  EXPECT_EQ(config->stream_heartbeat, seconds(5));
  options.given["stream_queue"] = "8";
  options.given["stream_heartbeat"] = "2";
  EXPECT_EQ(LoadServerConfig(options)->stream_queue, 8);
  EXPECT_EQ(LoadServerConfig(options)->stream_heartbeat, seconds(2));
  options.given["stream_queue"] = "0";
  ASSERT_FALSE(LoadServerConfig(options).ok());
  ServeOptions bad_file;
  bad_file.given["config"] = Write("[server]\nstream_heartbeat_seconds = 0\n");
  auto refused = LoadServerConfig(bad_file);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("countersign.toml:2: server.stream_heartbeat_seconds"),
            std::string::npos)
      << refused.error().message;
}

TEST_F(ServerConfigTest, LimitsTakeCapsTtlAndZeroForNone) {
  auto loaded = LoadConfigFile(
      Write("[limits]\nrate_per_principal = \"0\"\nmax_pending_per_principal = 0\n"
            "idempotency_ttl = \"7d\"\nmax_connections = 500\nmax_connections_per_ip = 20\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->limits.per_principal, 0);
  EXPECT_EQ(loaded->limits.max_pending_per_principal, 0);
  EXPECT_EQ(loaded->limits.idempotency_ttl, std::chrono::hours(7 * 24));
  EXPECT_EQ(loaded->limits.max_connections, 500);
  EXPECT_EQ(loaded->limits.max_connections_per_ip, 20);

  auto negative = LoadConfigFile(Write("[limits]\nmax_connections = -1\n"));
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find(":2: limits.max_connections"), std::string::npos)
      << negative.error().message;
}

TEST_F(ServerConfigTest, MissingFileIsAnErrorNotAnException) {
  auto loaded = LoadConfigFile(dir_.File("missing.toml"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("missing.toml:"), std::string::npos);
  EXPECT_NE(loaded.error().message.find("No such file"), std::string::npos)
      << loaded.error().message;
}

// A directory reads as empty: taken as a config file it would mean no policies at all.
TEST_F(ServerConfigTest, ADirectoryIsNotAConfigFile) {
  const std::string dir = dir_.path().string();
  auto loaded = LoadConfigFile(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, dir + ":0: not a regular file (a directory)");

  ServeOptions options;
  options.given["config"] = dir;
  auto config = LoadServerConfig(options);
  ASSERT_FALSE(config.ok()) << "serve must not start on a directory";
}

TEST(ParseDurationTest, UnitsAndSequences) {
  const std::pair<const char*, std::optional<int64_t>> cases[] = {
      {"30s", 30},
      {"15m", 900},
      {"2h", 7200},
      {"1d", 86400},
      {"1h30m", 5400},
      {"0s", 0},
      {"30d", 2592000},
      {"", std::nullopt},
      {"15", std::nullopt},
      {"m", std::nullopt},
      {"15x", std::nullopt},
      {"-5m", std::nullopt},
      {"1.5h", std::nullopt},
      {" 5m", std::nullopt},
      {"5m ", std::nullopt},
      {"5M", std::nullopt},
      {"99999999999s", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    const auto parsed = ParseDuration(text);
    ASSERT_EQ(parsed.has_value(), expected.has_value()) << text;
    if (expected) {
      EXPECT_EQ(*parsed, seconds(*expected)) << text;
    }
  }
}

TEST(ParseRateTest, CountPerWindow) {
  using Rate = std::optional<std::pair<int, seconds>>;
  const std::pair<const char*, Rate> cases[] = {
      {"60/1m", std::make_pair(60, seconds(60))},
      {"600/m", std::make_pair(600, seconds(60))},
      {"10/1h", std::make_pair(10, seconds(3600))},
      {"5/30s", std::make_pair(5, seconds(30))},
      {"0", std::make_pair(0, seconds(0))},
      {"0/1m", std::make_pair(0, seconds(0))},
      {"60", std::nullopt},
      {"60/", std::nullopt},
      {"/1m", std::nullopt},
      {"x/1m", std::nullopt},
      {"-1/1m", std::nullopt},
      {"60/2d", std::nullopt},
      {"60/0s", std::nullopt},
      {"2000000/1m", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(ParseRate(text), expected) << text;
  }
}

}  // namespace
}  // namespace countersign
