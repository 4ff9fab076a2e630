// NewAlert: the alert bodies POST /v1/alerts reads, the checks of meaning, and what an alert
// becomes (its request and its conversation). Plain values only.
#include "engine/new_alert.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "engine/field_rules.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const TimePoint kNow = FromUnixMillis(1'795'255'200'000);  // 2026-11-21T10:00:00Z

NewAlert MustParse(const std::string& body) {
  auto parsed = ParseNewAlert(json::parse(body));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? std::move(parsed).value() : NewAlert{};
}

// The error ParseNewAlert gives for `body`, as "code: message".
std::string ParseError(const std::string& body) {
  auto parsed = ParseNewAlert(json::parse(body));
  if (parsed.ok()) return "ok";
  return std::string(ErrorCodeName(parsed.error().code)) + ": " + parsed.error().message;
}

NewAlert Valid() {
  NewAlert a;
  a.subject = "slack:U123ABC";
  a.alert.id = "alert-7";
  a.alert.name = "Impossible travel";
  a.alert.description = "Sign-ins from two countries within an hour.";
  a.alert.properties = {{"ip", "203.0.113.9"}, {"count", 3}, {"vpn", false}};
  return a;
}

// The message CheckNewAlert gives, or "ok"; a failure when it is not kInvalid.
std::string CheckError(const NewAlert& a) {
  auto checked = CheckNewAlert(a);
  if (checked.ok()) return "ok";
  EXPECT_EQ(checked.error().code, ErrorCode::kInvalid) << checked.error().message;
  return checked.error().message;
}

TEST(ParseNewAlertTest, TheNestedShapeReadsEveryField) {
  NewAlert a = MustParse(R"json({
    "subject": "slack:U123ABC",
    "alert": {"id": "alert-7", "name": "Impossible travel", "description": "Two countries.",
              "properties": {"ip": "203.0.113.9", "count": 3, "score": 0.5, "vpn": false}},
    "question": "Were you in Lisbon?",
    "approvers": ["alice", "group:soc"],
    "timeout_seconds": 3600,
    "max_nudges": 2,
    "channel": "slack-soc",
    "notify": ["email-soc"],
    "callback_url": "https://siem.example.com/hook",
    "idempotency_key": "alert-7",
    "requester": "siem"
  })json");
  EXPECT_EQ(a.subject, "slack:U123ABC");
  EXPECT_EQ(a.alert.id, "alert-7");
  EXPECT_EQ(a.alert.name, "Impossible travel");
  EXPECT_EQ(a.alert.description, "Two countries.");
  EXPECT_EQ(a.alert.properties,
            (json::object{{"ip", "203.0.113.9"}, {"count", 3}, {"score", 0.5}, {"vpn", false}}));
  EXPECT_EQ(a.question, "Were you in Lisbon?");
  EXPECT_EQ(a.approvers, (std::vector<std::string>{"alice", "group:soc"}));
  EXPECT_EQ(a.timeout_seconds, 3600);
  EXPECT_EQ(a.max_nudges, 2);
  EXPECT_EQ(a.channel, "slack-soc");
  EXPECT_EQ(a.notify, (std::vector<std::string>{"email-soc"}));
  EXPECT_EQ(a.callback_url, "https://siem.example.com/hook");
  EXPECT_EQ(a.idempotency_key, "alert-7");
  EXPECT_EQ(a.requester, "siem");
}

TEST(ParseNewAlertTest, TheSeedsFlatShapeMakesItsUserIdASlackSubject) {
  NewAlert a = MustParse(R"json({
    "id": "impossible-travel", "name": "Impossible travel", "description": "Two countries.",
    "user_id": "U024BE7LH", "properties": {"ip": "203.0.113.9"}
  })json");
  EXPECT_EQ(a.subject, "slack:U024BE7LH");
  EXPECT_EQ(a.alert.id, "impossible-travel");
  EXPECT_EQ(a.alert.name, "Impossible travel");
  EXPECT_EQ(a.alert.description, "Two countries.");
  EXPECT_EQ(a.alert.properties, (json::object{{"ip", "203.0.113.9"}}));
  EXPECT_FALSE(a.max_nudges);
  EXPECT_FALSE(a.timeout_seconds);
}

TEST(ParseNewAlertTest, AnExplicitSubjectWinsOverUserIdInTheFlatShape) {
  NewAlert a = MustParse(R"({"name": "x", "user_id": "U1", "subject": "slack:U2"})");
  EXPECT_EQ(a.subject, "slack:U2");
}

TEST(ParseNewAlertTest, NullMembersAreAbsent) {
  NewAlert a = MustParse(R"({"subject": null, "alert": {"name": "x", "properties": null},
                             "max_nudges": null, "approvers": null})");
  EXPECT_EQ(a.subject, "");
  EXPECT_TRUE(a.alert.properties.empty());
  EXPECT_FALSE(a.max_nudges);
  EXPECT_TRUE(a.approvers.empty());
}

TEST(ParseNewAlertTest, WrongTypesAreMalformedAndNameTheField) {
  EXPECT_EQ(ParseError(R"(["an array"])"), "malformed: the alert body must be a JSON object");
  EXPECT_EQ(ParseError(R"({"alert": "x"})"), "malformed: alert must be an object");
  EXPECT_EQ(ParseError(R"({"alert": {"name": 5}})"), "malformed: name must be a string");
  EXPECT_EQ(ParseError(R"({"alert": {"id": true}})"), "malformed: id must be a string");
  EXPECT_EQ(ParseError(R"({"alert": {"description": []}})"),
            "malformed: description must be a string");
  EXPECT_EQ(ParseError(R"({"alert": {"properties": [1]}})"),
            "malformed: properties must be an object");
  EXPECT_EQ(ParseError(R"({"alert": {}, "subject": 5})"), "malformed: subject must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "user_id": 42})"), "malformed: user_id must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "question": 1})"), "malformed: question must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "approvers": "alice"})"),
            "malformed: approvers must be an array");
  EXPECT_EQ(ParseError(R"({"name": "x", "notify": [1]})"),
            "malformed: notify must be an array of strings");
  EXPECT_EQ(ParseError(R"({"name": "x", "timeout_seconds": "60"})"),
            "malformed: timeout_seconds must be an integer");
  EXPECT_EQ(ParseError(R"({"name": "x", "max_nudges": 1.5})"),
            "malformed: max_nudges must be an integer");
  EXPECT_EQ(ParseError(R"({"name": "x", "channel": {}})"), "malformed: channel must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "callback_url": 1})"),
            "malformed: callback_url must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "idempotency_key": 1})"),
            "malformed: idempotency_key must be a string");
  EXPECT_EQ(ParseError(R"({"name": "x", "requester": 1})"),
            "malformed: requester must be a string");
}

TEST(ParseNewAlertTest, PropertyValuesMustBeScalars) {
  EXPECT_EQ(ParseError(R"({"alert": {"name": "x", "properties": {"geo": {"city": "Lisbon"}}}})"),
            "malformed: alert property 'geo' must be a string, a number or a boolean");
  EXPECT_EQ(ParseError(R"({"name": "x", "properties": {"ips": ["a", "b"]}})"),
            "malformed: alert property 'ips' must be a string, a number or a boolean");
  EXPECT_EQ(ParseError(R"({"name": "x", "properties": {"none": null}})"),
            "malformed: alert property 'none' must be a string, a number or a boolean");
  EXPECT_EQ(ParseError(R"({"name": "x", "properties": {"s": "a", "n": -1.5, "b": true}})"), "ok");
}

TEST(CheckNewAlertTest, AValidAlertPasses) {
  EXPECT_EQ(CheckError(Valid()), "ok");
  NewAlert workspace_user = Valid();
  workspace_user.subject = "slack:W0123";
  EXPECT_EQ(CheckError(workspace_user), "ok");
  NewAlert bounds = Valid();
  bounds.max_nudges = 0;
  EXPECT_EQ(CheckError(bounds), "ok");
  bounds.max_nudges = kMaxNudgesLimit;
  EXPECT_EQ(CheckError(bounds), "ok");
}

TEST(CheckNewAlertTest, TheSubjectMustBeASlackUser) {
  NewAlert a = Valid();
  a.subject = "";
  EXPECT_EQ(CheckError(a), "subject is required: a chat identity such as slack:U123 (or user_id)");
  for (const char* bad : {"alice", "slack:", "slack:U", "slack:u123", "slack:C0123", "slack:U12-3",
                          "teams:U123", "slack:U123 "}) {
    a.subject = bad;
    EXPECT_EQ(CheckError(a),
              "subject must be a Slack user, slack:U followed by letters and digits "
              "(got '" +
                  std::string(bad) + "')")
        << bad;
  }
  a.subject = "slack:U" + std::string(32, '1');
  EXPECT_NE(CheckError(a), "ok");
}

TEST(CheckNewAlertTest, TheAlertsFieldsHaveLimits) {
  NewAlert a = Valid();
  a.alert.name = "";
  EXPECT_EQ(CheckError(a), "alert name is required");
  a.alert.name = std::string(201, 'n');
  EXPECT_EQ(CheckError(a), "alert name must be at most 200 printable bytes");
  a.alert.name = std::string(200, 'n');
  EXPECT_EQ(CheckError(a), "ok");
  a.alert.name = "Impossible\ntravel";
  EXPECT_EQ(CheckError(a), "alert name must be at most 200 printable bytes");

  a = Valid();
  a.alert.id = std::string(kMaxShortText + 1, 'i');
  EXPECT_EQ(CheckError(a), "alert id must be at most 128 printable bytes");
  a.alert.id = "alert\t7";
  EXPECT_EQ(CheckError(a), "alert id must be at most 128 printable bytes");

  a = Valid();
  a.alert.description = std::string(4001, 'd');
  EXPECT_EQ(CheckError(a), "alert description is longer than 4000 bytes");
  a.alert.description = std::string(4000, 'd');
  EXPECT_EQ(CheckError(a), "ok");
}

TEST(CheckNewAlertTest, PropertiesHaveLimits) {
  NewAlert a = Valid();
  a.alert.properties.clear();
  for (size_t i = 0; i <= kMaxAlertProperties; ++i) {
    a.alert.properties["p" + std::to_string(i)] = 1;
  }
  EXPECT_EQ(CheckError(a), "an alert has at most 50 properties");

  a = Valid();
  a.alert.properties = {{"", "x"}};
  EXPECT_EQ(CheckError(a), "each alert property name must be 1 to 128 printable bytes");
  a.alert.properties = {{std::string(129, 'k'), "x"}};
  EXPECT_EQ(CheckError(a), "each alert property name must be 1 to 128 printable bytes");
  a.alert.properties = {{"bad\x7fkey", "x"}};
  EXPECT_EQ(CheckError(a), "each alert property name must be 1 to 128 printable bytes");
  a.alert.properties = {{"ip", std::string(1001, 'v')}};
  EXPECT_EQ(CheckError(a), "alert property 'ip' is longer than 1000 bytes");
  a.alert.properties = {{"ip", std::string(1000, 'v')}};
  EXPECT_EQ(CheckError(a), "ok");
}

TEST(CheckNewAlertTest, QuestionNudgesAndChannelHaveLimits) {
  NewAlert a = Valid();
  a.question = std::string(1001, 'q');
  EXPECT_EQ(CheckError(a), "question is longer than 1000 bytes");

  a = Valid();
  a.max_nudges = -1;
  EXPECT_EQ(CheckError(a), "max_nudges must be between 0 and 10");
  a.max_nudges = kMaxNudgesLimit + 1;
  EXPECT_EQ(CheckError(a), "max_nudges must be between 0 and 10");

  a = Valid();
  a.channel = std::string(129, 'c');
  EXPECT_EQ(CheckError(a), "channel must be at most 128 printable bytes");
  a.channel = "slack\nops";
  EXPECT_EQ(CheckError(a), "channel must be at most 128 printable bytes");
}

TEST(AlertActionTest, TheNameIsSluggedIntoAnAction) {
  EXPECT_EQ(AlertAction("Impossible travel"), "alert.impossible_travel");
  EXPECT_EQ(AlertAction("  Login from TOR!! (EU) "), "alert.login_from_tor_eu");
  EXPECT_EQ(AlertAction("MFA-Reset_2FA"), "alert.mfa_reset_2fa");
  EXPECT_EQ(AlertAction("Caf\xc3\xa9 Wi-Fi"), "alert.caf_wi_fi");
  EXPECT_EQ(AlertAction(""), "alert.unnamed");
  EXPECT_EQ(AlertAction("!!! ???"), "alert.unnamed");
}

TEST(AlertActionTest, ALongNameIsCutToAHundredCharactersAndStaysAValidAction) {
  const std::string action = AlertAction(std::string(150, 'A'));
  EXPECT_EQ(action, "alert." + std::string(100, 'a'));
  EXPECT_TRUE(IsValidAction(action));
  const std::string words = AlertAction(std::string(60, 'x') + " " + std::string(60, 'y'));
  EXPECT_EQ(words, "alert." + std::string(60, 'x') + "_" + std::string(39, 'y'));
  EXPECT_TRUE(IsValidAction(words));
}

TEST(NewAlertTest, ToNewRequestMakesAConversationRequestOfTheAlert) {
  NewAlert a = Valid();
  a.approvers = {"group:soc"};
  a.timeout_seconds = 7200;
  a.notify = {"email-soc"};
  a.callback_url = "https://siem.example.com/hook";
  a.idempotency_key = "alert-7";
  a.requester = "siem";
  a.body_sha256 = "abc123";
  const NewRequest r = a.ToNewRequest();
  EXPECT_EQ(r.kind, "conversation");
  EXPECT_TRUE(r.from_alert);
  EXPECT_EQ(r.action, "alert.impossible_travel");
  EXPECT_EQ(r.title, "Impossible travel");
  EXPECT_EQ(r.details, (json::object{{"alert", json::object{{"id", "alert-7"},
                                                            {"name", "Impossible travel"},
                                                            {"description", a.alert.description},
                                                            {"properties", a.alert.properties}}},
                                     {"subject", "slack:U123ABC"},
                                     {"question", kDefaultQuestion}}))
      << json::serialize(r.details);
  EXPECT_TRUE(r.arguments.empty());
  EXPECT_FALSE(r.choices);
  EXPECT_EQ(r.approvers, (std::vector<std::string>{"group:soc"}));
  EXPECT_EQ(r.timeout_seconds, 7200);
  EXPECT_EQ(r.notify, (std::vector<std::string>{"email-soc"}));
  EXPECT_EQ(r.callback_url, "https://siem.example.com/hook");
  EXPECT_EQ(r.idempotency_key, "alert-7");
  EXPECT_EQ(r.requester, "siem");
  EXPECT_EQ(r.body_sha256, "abc123");
}

TEST(NewAlertTest, ToNewRequestKeepsAGivenQuestion) {
  NewAlert a = Valid();
  a.question = "Did you sign in from Lisbon?";
  EXPECT_EQ(a.ToNewRequest().details.at("question"), "Did you sign in from Lisbon?");
}

TEST(NewAlertTest, ToConversationIsPostedAndWaitsForTheWorkerToShowIt) {
  NewAlert a = Valid();
  a.channel = "slack-soc";
  const Conversation c = a.ToConversation("req_1", "acme", kNow);
  EXPECT_EQ(c.request_id, "req_1");
  EXPECT_EQ(c.tenant, "acme");
  EXPECT_EQ(c.subject, "slack:U123ABC");
  EXPECT_EQ(c.channel, "slack-soc");
  EXPECT_EQ(c.alert, a.alert);
  EXPECT_EQ(c.question, kDefaultQuestion);
  EXPECT_EQ(c.max_nudges, kDefaultMaxNudges);
  EXPECT_EQ(c.phase, ConversationPhase::kPosted);
  EXPECT_EQ(c.step, ConversationStep::kNone);
  EXPECT_EQ(c.parent_version, 1);
  EXPECT_EQ(c.parent_shown, 0);
  EXPECT_EQ(c.step_due, kNow);
  EXPECT_EQ(c.updated_at, kNow);
  EXPECT_TRUE(c.feed_ts.empty());
  EXPECT_FALSE(c.delivered());
  EXPECT_TRUE(c.has_work());
  EXPECT_TRUE(c.open());
}

TEST(NewAlertTest, ToConversationTakesTheQuestionAndNudgesGiven) {
  NewAlert a = Valid();
  a.question = "Was it you?";
  a.max_nudges = 0;
  const Conversation c = a.ToConversation("req_1", "default", kNow);
  EXPECT_EQ(c.question, "Was it you?");
  EXPECT_EQ(c.max_nudges, 0);
}

}  // namespace
}  // namespace countersign
