#include "notify/slack_channel.hpp"

#include <cctype>
#include <cstdio>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "notify/chat_text.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
const TimePoint kNow = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z

Request Fixture() {
  Request r;
  r.id = kId;
  r.action = "deploy_production";
  r.title = "Deploy v2.0";
  r.arguments = {{"ref", "v2.0"}};
  r.requester = "ci-bot";
  r.choices = DefaultChoices(Kind::kApproval);
  r.approvers = {"group:sre"};
  r.quorum = 2;
  r.policy = "prod-deploys";
  r.created_at = kNow;
  r.deadline_at = kNow + 15min;
  return r;
}

ChannelSettings WebApiSettings() {
  return {"slack-ops",
          "slack",
          {{"bot_token", "xoxb-test"},
           {"channel", "C0123456789"},
           {"signing_secret", kSecret},
           {"api_base", "http://127.0.0.1:9/api/"}},
          "countersign.toml:10",
          {}};
}

ChannelSettings WebhookSettings() {
  return {"slack-hook",
          "slack",
          {{"webhook_url", "https://hooks.slack.example/services/T/B/X"}},
          "countersign.toml:20",
          {}};
}

OutboxRow Row(std::string kind, std::string event) {
  OutboxRow row;
  row.id = 1;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.destination = "slack-ops";
  row.kind = std::move(kind);
  row.event = std::move(event);
  return row;
}

class SlackChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<Channel> Make(ChannelSettings settings) {
    auto made = SlackChannel::Create(std::move(settings), links_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  // Renders `row` and returns the call with its body parsed.
  std::pair<OutboundCall, json::value> RenderJson(const Channel& channel, const OutboxRow& row,
                                                  const Request& r, std::string_view ref = {}) {
    auto call = channel.Render(row, r, ref);
    EXPECT_TRUE(call.ok()) << call.error().message;
    if (!call.ok()) return {};
    return {call.value(), json::parse(call->body)};
  }

  std::string Header(const OutboundCall& call, const std::string& name) {
    for (const auto& [k, v] : call.headers) {
      if (k == name) return v;
    }
    return {};
  }

  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
};

TEST_F(SlackChannelTest, SettingsNeedATokenOrAWebhookAndErrorsNameTheKey) {
  auto error = [&](ChannelSettings s) {
    auto made = SlackChannel::Create(std::move(s), links_);
    return made.ok() ? std::string("ok") : made.error().message;
  };
  ChannelSettings none{"s", "slack", {{"channel", "C1"}}, "cs.toml:3", {}};
  EXPECT_NE(error(none).find("bot_token"), std::string::npos) << error(none);
  EXPECT_NE(error(none).find("cs.toml:3"), std::string::npos);
  auto no_channel = WebApiSettings();
  no_channel.values.erase("channel");
  EXPECT_NE(error(no_channel).find("channel"), std::string::npos);
  auto no_secret = WebApiSettings();
  no_secret.values.erase("signing_secret");
  EXPECT_NE(error(no_secret).find("signing_secret"), std::string::npos);
  auto both = WebApiSettings();
  both.values["webhook_url"] = "https://hooks.slack.example/x";
  EXPECT_NE(error(both).find("not both"), std::string::npos);
  auto unknown = WebApiSettings();
  unknown.values["colour"] = "red";
  EXPECT_NE(error(unknown).find("'colour'"), std::string::npos);
  auto principal_in_api_mode = WebApiSettings();
  principal_in_api_mode.values["principal"] = "alice";
  EXPECT_NE(error(principal_in_api_mode).find("'principal'"), std::string::npos);
  auto bad_url = WebhookSettings();
  bad_url.values["webhook_url"] = "ftp://x";
  EXPECT_NE(error(bad_url).find("webhook_url"), std::string::npos);
  EXPECT_EQ(error(WebApiSettings()), "ok");
  EXPECT_EQ(error(WebhookSettings()), "ok");
}

TEST_F(SlackChannelTest, KindsDependOnTheDeliveryMode) {
  auto api = Make(WebApiSettings());
  using V = std::vector<std::string>;
  EXPECT_EQ(api->KindsFor("request.created"), V{"post"});
  EXPECT_EQ(api->KindsFor("decision.recorded"), V{"update"});
  EXPECT_EQ(api->KindsFor("request.resolved"), V{"update"});
  EXPECT_EQ(api->KindsFor("request.expired"), V{"update"});
  EXPECT_EQ(api->KindsFor("request.cancelled"), V{"update"});
  EXPECT_EQ((api->KindsFor("request.escalated")), (V{"update", "remind"}));
  EXPECT_EQ(api->KindsFor("request.reminded"), V{"remind"});
  EXPECT_EQ(api->KindsFor("decision.rejected"), V{});
  auto hook = Make(WebhookSettings());
  EXPECT_EQ(hook->KindsFor("request.created"), V{"post"});
  EXPECT_EQ(hook->KindsFor("request.escalated"), V{"post"});
  EXPECT_EQ(hook->KindsFor("request.reminded"), V{"post"});
  EXPECT_EQ(hook->KindsFor("request.resolved"), V{"post"});
  EXPECT_EQ(hook->KindsFor("request.cancelled"), V{"post"});
  EXPECT_EQ(hook->KindsFor("decision.recorded"), V{});
}

TEST_F(SlackChannelTest, AWebApiPostIsExactlyThisBlockKitMessage) {
  auto channel = Make(WebApiSettings());
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), Fixture());
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "http://127.0.0.1:9/api/chat.postMessage");
  EXPECT_EQ(Header(call, "Authorization"), "Bearer xoxb-test");
  EXPECT_EQ(Header(call, "Content-Type"), "application/json; charset=utf-8");
  const json::value expected = json::parse(R"json({
    "channel": "C0123456789",
    "text": "Approval needed: Deploy v2.0 (deploy_production, requested by ci-bot)",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text", "text": "Deploy v2.0", "emoji": true}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "*Action*\n`deploy_production`"},
        {"type": "mrkdwn", "text": "*Requested by*\nci-bot"},
        {"type": "mrkdwn",
         "text": "*Deadline*\n<!date^1795256100^{date_short_pretty} {time}|2026-11-21T10:15:00.000Z>"},
        {"type": "mrkdwn", "text": "*Risk*\nnormal"},
        {"type": "mrkdwn", "text": "*Approvers*\ngroup:sre (2 needed)"}]},
      {"type": "section",
       "text": {"type": "mrkdwn", "text": "*Arguments*\n```{\n  \"ref\": \"v2.0\"\n}```"}},
      {"type": "context", "elements": [{"type": "mrkdwn",
        "text": "Request `req_01JD3Z6Q8W9K4M2N7P5R0S1T2V` \u00b7 policy `prod-deploys` \u00b7 0 of 2 approvals \u00b7 <https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V|Open in the inbox>"}]},
      {"type": "actions", "block_id": "countersign", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Approve", "emoji": true},
         "action_id": "approve",
         "value": "{\"channel\":\"slack-ops\",\"request\":\"req_01JD3Z6Q8W9K4M2N7P5R0S1T2V\",\"choice\":\"approve\"}",
         "style": "primary"},
        {"type": "button", "text": {"type": "plain_text", "text": "Deny", "emoji": true},
         "action_id": "deny",
         "value": "{\"channel\":\"slack-ops\",\"request\":\"req_01JD3Z6Q8W9K4M2N7P5R0S1T2V\",\"choice\":\"deny\"}",
         "style": "danger"}]}],
    "unfurl_links": false,
    "unfurl_media": false
  })json");
  EXPECT_EQ(body, expected) << json::serialize(body);
}

TEST_F(SlackChannelTest, HighRiskApproveButtonsCarryAConfirmDialogAndOthersDoNot) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.risk = "high";
  r.choices.push_back({"escalate", "Ask a lead", "default", Outcome::kEscalate});
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& buttons = body.at("blocks").as_array().back().at("elements").as_array();
  ASSERT_EQ(buttons.size(), 3u);
  EXPECT_EQ(buttons[0].at("confirm"), json::parse(R"json({
    "title": {"type": "plain_text", "text": "Approve a high-risk action?", "emoji": true},
    "text": {"type": "mrkdwn", "text": "This approves `deploy_production`: Deploy v2.0"},
    "confirm": {"type": "plain_text", "text": "Approve", "emoji": true},
    "deny": {"type": "plain_text", "text": "Cancel", "emoji": true},
    "style": "danger"})json"));
  EXPECT_FALSE(buttons[1].as_object().contains("confirm"));
  EXPECT_FALSE(buttons[2].as_object().contains("confirm"));
  EXPECT_FALSE(buttons[2].as_object().contains("style"));
  EXPECT_EQ(body.at("blocks").at(1).at("fields").at(3).at("text"), "*Risk*\n:warning: high");

  // Normal risk: no dialog anywhere.
  auto [plain_call, plain] = RenderJson(*channel, Row("post", "request.created"), Fixture());
  for (const auto& b : plain.at("blocks").as_array().back().at("elements").as_array()) {
    EXPECT_FALSE(b.as_object().contains("confirm"));
  }
}

TEST_F(SlackChannelTest, WebhookModePostsUrlButtonsToOneClickLinksBoundToThePrincipal) {
  auto channel = Make(WebhookSettings());
  Request r = Fixture();
  r.risk = "high";
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  EXPECT_EQ(call.url, "https://hooks.slack.example/services/T/B/X");
  EXPECT_EQ(Header(call, "Authorization"), "");
  EXPECT_FALSE(body.as_object().contains("channel"));
  EXPECT_EQ(body.at("unfurl_links"), false);
  const auto& actions = body.at("blocks").as_array().back();
  EXPECT_EQ(actions.at("type"), "actions");
  const auto& buttons = actions.at("elements").as_array();
  ASSERT_EQ(buttons.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& b = buttons[i].as_object();
    EXPECT_FALSE(b.contains("value"));
    EXPECT_FALSE(b.contains("confirm"));
    const std::string url(b.at("url").as_string());
    ASSERT_EQ(url.rfind("https://cs.example.com/l/", 0), 0u) << url;
    auto claims = signer_.Verify(url.substr(std::string("https://cs.example.com/l/").size()));
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->request_id, kId);
    EXPECT_EQ(claims->choice, i == 0 ? "approve" : "deny");
    EXPECT_EQ(claims->recipient, "channel:slack-hook");
    EXPECT_EQ(claims->expires_at, r.deadline_at);
  }
  // A principal of its own.
  auto named = WebhookSettings();
  named.values["principal"] = "ops-room";
  auto with_principal = Make(named);
  auto [c2, b2] = RenderJson(*with_principal, Row("post", "request.created"), r);
  const std::string url(
      b2.at("blocks").as_array().back().at("elements").at(0).at("url").as_string());
  EXPECT_EQ(signer_.Verify(url.substr(url.rfind('/') + 1))->recipient, "ops-room");
}

TEST_F(SlackChannelTest, UserTextIsEscapedForMrkdwn) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.title = "Ship <!channel> & <https://evil.example|click>";
  r.requester = "<@U0> & co";
  r.arguments = {{"q", "a < b && c > d"}};
  r.details = {{"why", "<!here>"}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  // plain_text is shown as is; mrkdwn is escaped.
  EXPECT_EQ(body.at("blocks").at(0).at("text").at("text"), json::value(r.title));
  EXPECT_EQ(body.at("text"),
            "Approval needed: Ship &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; "
            "(deploy_production, requested by &lt;@U0&gt; &amp; co)");
  EXPECT_EQ(body.at("blocks").at(1).at("fields").at(1).at("text"),
            "*Requested by*\n&lt;@U0&gt; &amp; co");
  EXPECT_EQ(body.at("blocks").at(2).at("text").at("text"), "*Details*\nwhy: &lt;!here&gt;");
  EXPECT_EQ(body.at("blocks").at(3).at("text").at("text"),
            "*Arguments*\n```{\n  \"q\": \"a &lt; b &amp;&amp; c &gt; d\"\n}```");
}

TEST_F(SlackChannelTest, LongTextIsCutToSlackLimitsOnUtf8Boundaries) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  std::string title;
  for (int i = 0; i < 100; ++i) title += "\xc3\xa9\xf0\x9f\x9a\x80";  // é🚀: 3 units each
  r.title = title;
  r.requester = std::string(5000, '&');
  r.arguments = {{"fence", "```"}, {"blob", std::string(10000, 'x')}};
  r.choices = {{"approve", std::string(80, 'A'), "primary", Outcome::kApproved}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& blocks = body.at("blocks").as_array();

  const std::string header(blocks[0].at("text").at("text").as_string());
  EXPECT_LE(TextLength(header), SlackChannel::kMaxHeader);
  EXPECT_GE(TextLength(header), SlackChannel::kMaxHeader - 2);
  EXPECT_EQ(header.substr(header.size() - kEllipsis.size()), kEllipsis);
  EXPECT_EQ(header.substr(0, 6), "\xc3\xa9\xf0\x9f\x9a\x80");

  const std::string requester(blocks[1].at("fields").at(1).at("text").as_string());
  EXPECT_LE(TextLength(requester), SlackChannel::kMaxField);
  // Cut between entities, never inside one.
  EXPECT_EQ(requester.substr(requester.size() - 5 - kEllipsis.size()),
            "&amp;" + std::string(kEllipsis));

  const std::string arguments(blocks[2].at("text").at("text").as_string());
  EXPECT_LE(TextLength(arguments), SlackChannel::kMaxSection);
  EXPECT_EQ(arguments.substr(arguments.size() - 3), "```");
  EXPECT_EQ(arguments.find("```", 15), arguments.size() - 3) << "a fence inside the block";

  const auto& button = blocks.back().at("elements").at(0);
  EXPECT_EQ(TextLength(std::string(button.at("text").at("text").as_string())),
            SlackChannel::kMaxButtonText);
  EXPECT_LE(TextLength(std::string(body.at("text").as_string())), SlackChannel::kMaxMessageText);
}

TEST_F(SlackChannelTest, AnUpdateEditsThePostedMessageAndShowsWhoDecidedWhat) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.decisions.push_back(
      {"dec_1", kId, "alice", "approve", Outcome::kApproved, "ship <it>", "", {}, kNow + 1min});
  r.decisions.push_back(
      {"dec_2", kId, "bob", "approve", Outcome::kApproved, "", "", {}, kNow + 2min});
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice", "bob"};
  r.resolved_at = kNow + 2min;
  auto [call, body] = RenderJson(*channel, Row("update", "request.resolved"), r,
                                 R"json({"channel":"C0123456789","ts":"1700000000.000100"})json");
  EXPECT_EQ(call.url, "http://127.0.0.1:9/api/chat.update");
  EXPECT_EQ(body.at("channel"), "C0123456789");
  EXPECT_EQ(body.at("ts"), "1700000000.000100");
  EXPECT_EQ(body.at("text"), "Approved by alice, bob: Deploy v2.0");
  EXPECT_FALSE(body.as_object().contains("unfurl_links"));
  const auto& blocks = body.at("blocks").as_array();
  for (const auto& b : blocks) EXPECT_NE(b.at("type"), "actions") << "buttons must go";
  EXPECT_EQ(blocks[3], json::parse(R"json({"type": "section", "text": {"type": "mrkdwn", "text":
    ":white_check_mark: *Approved* by alice, bob\n\u2022 *alice*: Approve \u2014 \u201cship &lt;it&gt;\u201d\n\u2022 *bob*: Approve"}})json"));
  // The link to the request's page stays when the buttons go.
  EXPECT_EQ(blocks[4].at("elements").at(0).at("text"),
            "Request `req_01JD3Z6Q8W9K4M2N7P5R0S1T2V` \u00b7 policy `prod-deploys` \u00b7 "
            "<https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V|Open in the "
            "inbox>");

  // A partial decision keeps the buttons and counts the approvals.
  Request partial = Fixture();
  partial.decisions.push_back(r.decisions[0]);
  auto [c2, b2] = RenderJson(*channel, Row("update", "decision.recorded"), partial,
                             R"json({"channel":"C0123456789","ts":"1700000000.000100"})json");
  const auto& pb = b2.at("blocks").as_array();
  EXPECT_EQ(pb.back().at("type"), "actions");
  EXPECT_EQ(pb[pb.size() - 2].at("elements").at(0).at("text"),
            "Request `req_01JD3Z6Q8W9K4M2N7P5R0S1T2V` \u00b7 policy `prod-deploys` \u00b7 1 of 2 "
            "approvals \u00b7 "
            "<https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V|Open in the "
            "inbox>");
  EXPECT_EQ(pb[3].at("text").at("text"),
            "*Decisions so far*\n\u2022 *alice*: Approve \u2014 \u201cship &lt;it&gt;\u201d");
}

TEST_F(SlackChannelTest, AnUpdateWithoutAPostedMessagePostsTheCurrentState) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.status = RequestStatus::kCancelled;
  auto [call, body] = RenderJson(*channel, Row("update", "request.cancelled"), r, "");
  EXPECT_EQ(call.url, "http://127.0.0.1:9/api/chat.postMessage");
  EXPECT_EQ(body.at("channel"), "C0123456789");
  EXPECT_EQ(body.at("text"), "Cancelled: Deploy v2.0");
  EXPECT_EQ(body.at("blocks").at(3).at("text").at("text"), ":no_entry_sign: *Cancelled*");
}

TEST_F(SlackChannelTest, RemindersAreThreadedRepliesToThePostedMessage) {
  auto channel = Make(WebApiSettings());
  const std::string ref = R"json({"channel":"C0123456789","ts":"1700000000.000100"})json";
  auto [call, body] = RenderJson(*channel, Row("remind", "request.reminded"), Fixture(), ref);
  EXPECT_EQ(call.url, "http://127.0.0.1:9/api/chat.postMessage");
  EXPECT_EQ(body, json::parse(R"json({"channel": "C0123456789", "thread_ts": "1700000000.000100",
    "text": ":bell: Reminder: *Deploy v2.0* is still waiting for a decision (deadline <!date^1795256100^{date_short_pretty} {time}|2026-11-21T10:15:00.000Z>).",
    "unfurl_links": false, "unfurl_media": false})json"));

  Request escalated = Fixture();
  escalated.escalation_level = 1;
  escalated.approvers = {"group:sre-leads"};
  auto [c2, b2] = RenderJson(*channel, Row("remind", "request.escalated"), escalated, ref);
  EXPECT_EQ(b2.at("text"),
            ":arrow_up: Escalated to level 1: now waiting for group:sre-leads (deadline "
            "<!date^1795256100^{date_short_pretty} {time}|2026-11-21T10:15:00.000Z>).");

  // Resolved meanwhile: the reminder only refreshes the message.
  Request resolved = Fixture();
  resolved.status = RequestStatus::kExpired;
  auto [c3, b3] = RenderJson(*channel, Row("remind", "request.reminded"), resolved, ref);
  EXPECT_EQ(c3.url, "http://127.0.0.1:9/api/chat.update");
}

TEST_F(SlackChannelTest, WebhookModePostsTheOutcomeAsANewMessage) {
  auto channel = Make(WebhookSettings());
  Request r = Fixture();
  r.status = RequestStatus::kDenied;
  r.resolved_by = {"carol"};
  r.decisions.push_back({"dec_1", kId, "carol", "deny", Outcome::kDenied, "", "", {}, kNow + 1min});
  auto [call, body] = RenderJson(*channel, Row("post", "request.resolved"), r);
  EXPECT_EQ(call.url, "https://hooks.slack.example/services/T/B/X");
  EXPECT_EQ(body.at("text"), "Denied by carol: Deploy v2.0");
  const auto& blocks = body.at("blocks").as_array();
  for (const auto& b : blocks) EXPECT_NE(b.at("type"), "actions");
  EXPECT_EQ(blocks[3].at("text").at("text"), ":x: *Denied* by carol\n\u2022 *carol*: Deny");
  EXPECT_EQ(blocks[4].at("elements").at(0).at("text"),
            "Request `req_01JD3Z6Q8W9K4M2N7P5R0S1T2V` \u00b7 policy `prod-deploys` \u00b7 "
            "<https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V|Open in the "
            "inbox>");

  auto [c2, reminder] = RenderJson(*channel, Row("post", "request.reminded"), Fixture());
  EXPECT_EQ(reminder.at("blocks").at(1),
            json::parse(R"json({"type": "context", "elements": [{"type": "mrkdwn",
              "text": ":bell: Reminder: still waiting for a decision"}]})json"));
}

TEST_F(SlackChannelTest, TheInboxLinkFollowsThePublicUrlsPathAndIsLeftOutRatherThanOverALimit) {
  LinkBuilder with_path{"https://example.com/approvals", signer_};
  auto made = SlackChannel::Create(WebhookSettings(), with_path);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto [call, body] = RenderJson(**made, Row("post", "request.created"), Fixture());
  const std::string context(body.at("blocks").at(3).at("elements").at(0).at("text").as_string());
  EXPECT_EQ(
      context.substr(context.find(" \u00b7 <")),
      " \u00b7 <https://example.com/approvals/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V|Open "
      "in the inbox>");

  // A public URL too long for Slack's 3000 characters: the message goes without the link.
  LinkBuilder too_long{"https://example.com/" + std::string(3000, 'a'), signer_};
  auto api = SlackChannel::Create(WebApiSettings(), too_long);
  ASSERT_TRUE(api.ok()) << api.error().message;
  auto [c2, b2] = RenderJson(**api, Row("post", "request.created"), Fixture());
  EXPECT_EQ(b2.at("blocks").at(3).at("elements").at(0).at("text"),
            "Request `req_01JD3Z6Q8W9K4M2N7P5R0S1T2V` \u00b7 policy `prod-deploys` \u00b7 0 of 2 "
            "approvals");
}

TEST_F(SlackChannelTest, ARespondRowIsAnEphemeralAnswerToTheResponseUrl) {
  auto channel = Make(WebApiSettings());
  OutboxRow row = Row("respond", "decision.rejected");
  row.target = "https://hooks.slack.com/actions/T1/1/abc";
  row.payload = R"json({"text":"not authorised: Slack user U1 is not mapped to a principal"})json";
  auto [call, body] = RenderJson(*channel, row, Fixture());
  EXPECT_EQ(call.url, "https://hooks.slack.com/actions/T1/1/abc");
  EXPECT_EQ(Header(call, "Authorization"), "");
  EXPECT_EQ(body, json::parse(R"json({"response_type": "ephemeral", "replace_original": false,
    "text": "not authorised: Slack user U1 is not mapped to a principal"})json"));
  row.target.clear();
  EXPECT_FALSE(channel->Render(row, Fixture(), "").ok());
  EXPECT_FALSE(channel->Render(Row("event", "request.created"), Fixture(), "").ok());
}

TEST_F(SlackChannelTest, ARespondRowOfferingTheFormCarriesALinkBoundToThePresser) {
  auto channel = Make(WebApiSettings());
  OutboxRow row = Row("respond", "decision.rejected");
  row.target = "https://hooks.slack.com/actions/T1/1/abc";
  row.payload =
      R"json({"text":"this request asks for a form <b>","form":{"choice":"approve","principal":"alice"}})json";
  auto [call, body] = RenderJson(*channel, row, Fixture());
  const std::string text(body.at("text").as_string());
  EXPECT_EQ(text.rfind("this request asks for a form &lt;b&gt;\n*<https://cs.example.com/l/", 0),
            0u)
      << text;
  const size_t start = text.find("/l/") + 3;
  const size_t end = text.find('|', start);
  ASSERT_NE(end, std::string::npos) << text;
  auto claims = signer_.Verify(text.substr(start, end - start));
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->request_id, Fixture().id);
  EXPECT_EQ(claims->choice, "approve");
  EXPECT_EQ(claims->recipient, "alice");
  EXPECT_NE(text.find("|Open the form>* (a link for you alone)"), std::string::npos) << text;

  // Once the request has been decided there is no form to offer.
  Request decided = Fixture();
  decided.status = RequestStatus::kApproved;
  auto [c2, late] = RenderJson(*channel, row, decided);
  EXPECT_EQ(late.at("text"), "this request asks for a form &lt;b&gt;");
}

TEST_F(SlackChannelTest, InterpretReadsSlacksOkFalseAnswers) {
  auto channel = Make(WebApiSettings());
  const OutboxRow post = Row("post", "request.created");
  auto reply = [](int status, std::string body, std::map<std::string, std::string> headers = {}) {
    OutboundReply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  };
  using K = DeliveryOutcome::Kind;

  auto ok =
      channel->Interpret(post, reply(200, R"json({"ok":true,"channel":"C1","ts":"17.5"})json"));
  EXPECT_EQ(ok.kind, K::kDelivered);
  EXPECT_EQ(json::parse(ok.message_ref), json::parse(R"json({"channel":"C1","ts":"17.5"})json"));
  auto updated =
      channel->Interpret(Row("update", "request.resolved"),
                         reply(200, R"json({"ok":true,"channel":"C1","ts":"17.5"})json"));
  EXPECT_EQ(updated.kind, K::kDelivered);
  auto threaded =
      channel->Interpret(Row("remind", "request.reminded"),
                         reply(200, R"json({"ok":true,"channel":"C1","ts":"18.1"})json"));
  EXPECT_EQ(threaded.kind, K::kDelivered);
  EXPECT_EQ(threaded.message_ref, "") << "a thread reply must not replace the message";

  auto limited = channel->Interpret(
      post, reply(429, R"json({"ok":false,"error":"ratelimited"})json", {{"retry-after", "7"}}));
  EXPECT_EQ(limited.kind, K::kRetry);
  EXPECT_EQ(limited.retry_after, std::chrono::seconds(7));
  auto limited_200 = channel->Interpret(
      post, reply(200, R"json({"ok":false,"error":"ratelimited"})json", {{"retry-after", "3"}}));
  EXPECT_EQ(limited_200.kind, K::kRetry);
  EXPECT_EQ(limited_200.retry_after, std::chrono::seconds(3));
  EXPECT_EQ(
      channel->Interpret(post, reply(200, R"json({"ok":false,"error":"internal_error"})json")).kind,
      K::kRetry);
  for (const char* error : {"invalid_auth", "channel_not_found", "not_in_channel",
                            "message_not_found", "account_inactive"}) {
    auto failed = channel->Interpret(
        post, reply(200, std::string(R"json({"ok":false,"error":")json") + error + "\"}"));
    EXPECT_EQ(failed.kind, K::kFailed) << error;
    EXPECT_EQ(failed.error, std::string("slack: ") + error);
  }
  EXPECT_EQ(channel->Interpret(post, reply(200, "<html>")).kind, K::kFailed);
  EXPECT_EQ(channel->Interpret(post, reply(503, "")).kind, K::kRetry);
  EXPECT_EQ(channel->Interpret(post, reply(0, "")).kind, K::kRetry);
  EXPECT_EQ(channel->Interpret(post, reply(404, "")).kind, K::kFailed);

  // Incoming webhooks answer "ok" or an HTTP error with a short text.
  auto hook = Make(WebhookSettings());
  EXPECT_EQ(hook->Interpret(post, reply(200, "ok")).kind, K::kDelivered);
  EXPECT_EQ(hook->Interpret(post, reply(200, "ok")).message_ref, "");
  auto gone = hook->Interpret(post, reply(404, "no_service"));
  EXPECT_EQ(gone.kind, K::kFailed);
  EXPECT_NE(gone.error.find("no_service"), std::string::npos);
  EXPECT_EQ(hook->Interpret(post, reply(429, "rate_limited", {{"retry-after", "2"}})).retry_after,
            std::chrono::seconds(2));
}

// A block_actions press as Slack sends it, signed with `secret` at `ts`.
InboundCallback Press(const std::string& value, const std::string& secret, int64_t ts,
                      const std::string& user = "U024BE7LH") {
  json::object payload{
      {"type", "block_actions"},
      {"user", {{"id", user}, {"username", "alice"}, {"name", "alice"}, {"team_id", "T1"}}},
      {"actions", json::array{json::object{{"action_id", "approve"},
                                           {"block_id", "countersign"},
                                           {"value", value},
                                           {"type", "button"}}}},
      {"container", {{"message_ts", "17.5"}, {"channel_id", "C0123456789"}}},
      {"channel", {{"id", "C0123456789"}}},
      {"message", {{"ts", "17.5"}}},
      {"response_url", "https://hooks.slack.com/actions/T1/1/abc"}};
  std::string encoded;
  for (unsigned char c : json::serialize(payload)) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
  }
  InboundCallback cb;
  cb.body = "payload=" + encoded;
  cb.headers["x-slack-request-timestamp"] = std::to_string(ts);
  cb.headers["x-slack-signature"] = SlackVerifier::Sign(secret, std::to_string(ts), cb.body);
  cb.headers["content-type"] = "application/x-www-form-urlencoded";
  return cb;
}

std::string Value(const std::string& channel, const std::string& choice = "approve") {
  return json::serialize(json::object{{"channel", channel}, {"request", kId}, {"choice", choice}});
}

const int64_t kNowSeconds = 1795255200;

TEST_F(SlackChannelTest, ASignedPressBecomesACallbackOnlyOnce) {
  auto channel = Make(WebApiSettings());
  const InboundCallback press = Press(Value("slack-ops"), kSecret, kNowSeconds);
  auto parsed = channel->ParseCallback(press, kNow + 2s);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->identity, "slack:U024BE7LH");
  EXPECT_EQ(parsed->display_name, "alice");
  EXPECT_EQ(parsed->request_id, kId);
  EXPECT_EQ(parsed->choice, "approve");
  EXPECT_EQ(parsed->response_url, "https://hooks.slack.com/actions/T1/1/abc");
  auto replay = channel->ParseCallback(press, kNow + 3s);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, ErrorCode::kUnauthorized);
}

TEST_F(SlackChannelTest, VerificationFailsBeforeAnythingIsParsed) {
  auto channel = Make(WebApiSettings());
  auto code = [&](const InboundCallback& cb) {
    auto parsed = channel->ParseCallback(cb, kNow);
    return parsed.ok() ? std::string("ok") : ErrorCodeName(parsed.error().code);
  };
  EXPECT_EQ(code(Press(Value("slack-ops"), "wrong-secret", kNowSeconds)), "unauthorized");
  EXPECT_EQ(code(Press(Value("slack-ops"), kSecret, kNowSeconds - 301)), "unauthorized");
  InboundCallback unsigned_press = Press(Value("slack-ops"), kSecret, kNowSeconds);
  unsigned_press.headers.erase("x-slack-signature");
  EXPECT_EQ(code(unsigned_press), "unauthorized");
  // Garbage that is not signed is refused as unauthorized, not as malformed.
  InboundCallback garbage;
  garbage.body = "payload=%ZZ";
  EXPECT_EQ(code(garbage), "unauthorized");
  // A webhook-mode channel without a signing secret takes no callbacks at all.
  auto hook = Make(WebhookSettings());
  EXPECT_EQ(
      hook->ParseCallback(Press(Value("slack-hook"), kSecret, kNowSeconds), kNow).error().code,
      ErrorCode::kUnauthorized);
}

TEST_F(SlackChannelTest, VerifiedPayloadsThatAreNotOurButtonsAreNotCallbacks) {
  auto channel = Make(WebApiSettings());
  auto code = [&](const InboundCallback& cb) {
    auto parsed = channel->ParseCallback(cb, kNow);
    return parsed.ok() ? std::string("ok") : ErrorCodeName(parsed.error().code);
  };
  int64_t ts = kNowSeconds;
  EXPECT_EQ(code(Press(Value("another-channel"), kSecret, ts++)), "not_found");
  EXPECT_EQ(code(Press("", kSecret, ts++)), "invalid") << "a URL button has no value";
  EXPECT_EQ(code(Press("approve", kSecret, ts++)), "invalid");
  EXPECT_EQ(code(Press(Value("slack-ops", "no such choice!"), kSecret, ts++)), "invalid");
  EXPECT_EQ(code(Press(Value("slack-ops"), kSecret, ts++, "u-lower")), "invalid");
  InboundCallback ssl_check;
  ssl_check.body = "ssl_check=1&token=x";
  ssl_check.headers["x-slack-request-timestamp"] = std::to_string(ts);
  ssl_check.headers["x-slack-signature"] =
      SlackVerifier::Sign(kSecret, std::to_string(ts), ssl_check.body);
  EXPECT_EQ(code(ssl_check), "invalid");
}

TEST_F(SlackChannelTest, AButtonValueNamingAKeyTwiceIsNotOurs) {
  auto channel = Make(WebApiSettings());
  const std::string twice = "{\"channel\":\"slack-ops\",\"request\":\"" + std::string(kId) +
                            "\",\"choice\":\"deny\",\"choice\":\"approve\"}";
  auto parsed = channel->ParseCallback(Press(twice, kSecret, kNowSeconds), kNow);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(SlackChannelTest, AButtonsColourComesFromItsOutcomeAndACustomLabelSaysWhatItDoes) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.choices = {{"ship", "Ship it", "danger", Outcome::kApproved},
               {"hold", "Hold", "primary", Outcome::kDenied}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& buttons = body.at("blocks").as_array().back().at("elements").as_array();
  ASSERT_EQ(buttons.size(), 2u);
  EXPECT_EQ(buttons[0].at("style"), "primary");
  EXPECT_EQ(buttons[0].at("text").at("text"), "Ship it \u2014 approves");
  EXPECT_EQ(buttons[1].at("style"), "danger");
  EXPECT_EQ(buttons[1].at("text").at("text"), "Hold \u2014 denies");
}

TEST_F(SlackChannelTest, GrantOptionsAddApproveButtonsThatNameOnlyTheScope) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.quorum = 1;
  r.session = "sess-1";
  r.grant_options = {{"session", 1h}, {"requester", 30 * 24h}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const json::array& buttons = body.at("blocks").as_array().back().at("elements").as_array();
  ASSERT_EQ(buttons.size(), 4u);
  const json::value session_button = {
      {"type", "button"},
      {"text",
       {{"type", "plain_text"}, {"text", "Approve for this session (1 h)"}, {"emoji", true}}},
      {"action_id", "approve:session"},
      {"value", json::serialize(json::object{{"channel", "slack-ops"},
                                             {"request", kId},
                                             {"choice", "approve"},
                                             {"grant", "session"}})},
      {"style", "primary"}};
  EXPECT_EQ(buttons[2], session_button);
  EXPECT_EQ(buttons[3].at("text").at("text"),
            "Always approve deploy_production for ci-bot (30 days)");
  // Webhook mode's URL buttons lead to the link page, which offers the options itself.
  auto hook = Make(WebhookSettings());
  auto [hook_call, hook_body] = RenderJson(*hook, Row("post", "request.created"), r);
  EXPECT_EQ(hook_body.at("blocks").as_array().back().at("elements").as_array().size(), 2u);
  // High risk: none.
  r.risk = "high";
  auto [high_call, high] = RenderJson(*channel, Row("post", "request.created"), r);
  EXPECT_EQ(high.at("blocks").as_array().back().at("elements").as_array().size(), 2u);
}

TEST_F(SlackChannelTest, APressOfAGrantButtonCarriesTheScopeAndAnyOtherGrantIsNotOurs) {
  auto channel = Make(WebApiSettings());
  auto value = [](const json::value& grant) {
    return json::serialize(json::object{
        {"channel", "slack-ops"}, {"request", kId}, {"choice", "approve"}, {"grant", grant}});
  };
  auto parsed = channel->ParseCallback(Press(value("requester"), kSecret, kNowSeconds), kNow);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->choice, "approve");
  EXPECT_EQ(parsed->grant_scope, "requester");
  EXPECT_EQ(
      channel->ParseCallback(Press(Value("slack-ops"), kSecret, kNowSeconds), kNow)->grant_scope,
      "");
  for (const json::value& bad : {json::value("tenant"), json::value(3600), json::value("")}) {
    auto refused = channel->ParseCallback(Press(value(bad), kSecret, kNowSeconds), kNow);
    ASSERT_FALSE(refused.ok()) << json::serialize(bad);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  }
}

TEST_F(SlackChannelTest, TheEditAfterAGrantingApprovalSaysWhatWasGranted) {
  auto channel = Make(WebApiSettings());
  Request r = Fixture();
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  OutboxRow row = Row("update", "request.resolved");
  row.payload = R"({"granted":{"scope":"requester","ttl_seconds":2592000}})";
  auto [call, body] = RenderJson(*channel, row, r, R"({"channel":"C0123456789","ts":"17.5"})");
  EXPECT_NE(json::serialize(body).find(":white_check_mark: *Approved* by alice \u2014 and always "
                                       "approved for ci-bot for 30 days"),
            std::string::npos)
      << json::serialize(body);
}

}  // namespace
}  // namespace countersign
