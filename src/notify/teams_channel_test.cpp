#include "notify/teams_channel.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
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

ChannelSettings Settings(std::string format = "") {
  ChannelSettings s{"teams-ops",
                    "teams",
                    {{"webhook_url", "https://prod.example.logic.azure.com/workflows/abc"}},
                    "countersign.toml:30",
                    {}};
  if (!format.empty()) s.values["format"] = format;
  return s;
}

OutboxRow Row(std::string event) {
  OutboxRow row;
  row.id = 1;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.destination = "teams-ops";
  row.kind = "post";
  row.event = std::move(event);
  return row;
}

// `text` with each "@NAME@" replaced.
std::string Fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    const std::string mark = "@" + key + "@";
    for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) {
      text.replace(at, mark.size(), value);
      at += value.size();
    }
  }
  return text;
}

class TeamsChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<Channel> Make(ChannelSettings settings) {
    auto made = TeamsChannel::Create(std::move(settings), links_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  json::value RenderJson(const Channel& channel, const OutboxRow& row, const Request& r) {
    auto call = channel.Render(row, r, "");
    EXPECT_TRUE(call.ok()) << call.error().message;
    if (!call.ok()) return {};
    EXPECT_EQ(call->url, "https://prod.example.logic.azure.com/workflows/abc");
    EXPECT_EQ(call->method, "POST");
    EXPECT_EQ(
        call->headers,
        (std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}}));
    return json::parse(call->body);
  }

  std::map<std::string, std::string> Links(const Request& r, const std::string& principal) {
    return {{"APPROVE", links_.Url(r, "approve", principal)},
            {"DENY", links_.Url(r, "deny", principal)}};
  }

  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
};

TEST_F(TeamsChannelTest, SettingsAreCheckedAndErrorsNameTheKey) {
  auto error = [&](ChannelSettings s) {
    auto made = TeamsChannel::Create(std::move(s), links_);
    return made.ok() ? std::string("ok") : made.error().message;
  };
  ChannelSettings none{"t", "teams", {}, "cs.toml:7", {}};
  EXPECT_NE(error(none).find("webhook_url"), std::string::npos);
  EXPECT_NE(error(none).find("cs.toml:7"), std::string::npos);
  EXPECT_NE(error(Settings("html")).find("format"), std::string::npos);
  // A bad value is reported at its own line, not the table's.
  auto bad_format = Settings("html");
  bad_format.lines["format"] = "countersign.toml:33";
  EXPECT_EQ(error(bad_format).rfind("countersign.toml:33: channel 'teams-ops' (teams): format", 0),
            0u)
      << error(bad_format);
  auto unknown = Settings();
  unknown.values["bot_token"] = "x";
  EXPECT_NE(error(unknown).find("'bot_token'"), std::string::npos);
  EXPECT_EQ(error(Settings()), "ok");
  EXPECT_EQ(error(Settings("adaptive")), "ok");
  EXPECT_EQ(error(Settings("messagecard")), "ok");
}

TEST_F(TeamsChannelTest, EveryNotifyingEventIsAPostBecauseAWebhookCannotEdit) {
  auto channel = Make(Settings());
  using V = std::vector<std::string>;
  for (const char* event : {"request.created", "request.escalated", "request.reminded",
                            "request.resolved", "request.expired", "request.cancelled"}) {
    EXPECT_EQ(channel->KindsFor(event), V{"post"}) << event;
  }
  EXPECT_EQ(channel->KindsFor("decision.recorded"), V{});
  EXPECT_EQ(channel->KindsFor("decision.rejected"), V{});
  EXPECT_TRUE(channel->Render(Row("request.created"), Fixture(), "").ok());
  OutboxRow update = Row("request.resolved");
  update.kind = "update";
  EXPECT_FALSE(channel->Render(update, Fixture(), "").ok());
}

TEST_F(TeamsChannelTest, ARequestIsExactlyThisAdaptiveCardInTheWorkflowsEnvelope) {
  auto channel = Make(Settings());
  const Request r = Fixture();
  const json::value body = RenderJson(*channel, Row("request.created"), r);
  const json::value expected = json::parse(Fill(R"json({
    "type": "message",
    "attachments": [{
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
          {"type": "TextBlock", "text": "Approval needed", "weight": "Bolder", "color": "Accent",
           "wrap": true},
          {"type": "TextBlock", "text": "Deploy v2.0", "size": "Large", "weight": "Bolder",
           "wrap": true},
          {"type": "FactSet", "facts": [
            {"title": "Action", "value": "deploy\\_production"},
            {"title": "Requested by", "value": "ci-bot"},
            {"title": "Deadline", "value": "2026-11-21 10:15:00 UTC"},
            {"title": "Risk", "value": "normal"},
            {"title": "Policy", "value": "prod-deploys"},
            {"title": "Approvers", "value": "group:sre (2 needed)"}]},
          {"type": "TextBlock", "text": "{\"ref\":\"v2.0\"}", "fontType": "Monospace",
           "wrap": true}],
        "actions": [
          {"type": "Action.OpenUrl", "title": "Approve", "url": "@APPROVE@", "style": "positive"},
          {"type": "Action.OpenUrl", "title": "Deny", "url": "@DENY@", "style": "destructive"},
          {"type": "Action.OpenUrl", "title": "Open in the inbox",
           "url": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}]
      }
    }]
  })json",
                                                Links(r, "channel:teams-ops")));
  EXPECT_EQ(body, expected) << json::serialize(body);
}

TEST_F(TeamsChannelTest, OpenUrlActionsAreOneClickLinksBoundToThePrincipal) {
  auto settings = Settings();
  settings.values["principal"] = "sre-room";
  auto channel = Make(settings);
  const Request r = Fixture();
  const json::value body = RenderJson(*channel, Row("request.created"), r);
  const auto& actions = body.at("attachments").at(0).at("content").at("actions").as_array();
  ASSERT_EQ(actions.size(), 3u);
  // The inbox link is no one-click link: it is bound to no one and decides nothing.
  EXPECT_EQ(actions[2].at("url"),
            json::value("https://cs.example.com/ui/requests/" + std::string(kId)));
  for (size_t i = 0; i < 2; ++i) {
    const std::string url(actions[i].at("url").as_string());
    ASSERT_EQ(url.rfind("https://cs.example.com/l/", 0), 0u) << url;
    auto claims = signer_.Verify(url.substr(url.rfind('/') + 1));
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->request_id, kId);
    EXPECT_EQ(claims->choice, i == 0 ? "approve" : "deny");
    EXPECT_EQ(claims->recipient, "sre-room");
  }
}

TEST_F(TeamsChannelTest, AResolutionPostsAnOutcomeCardWhoseOnlyActionOpensTheInbox) {
  auto channel = Make(Settings());
  Request r = Fixture();
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice", "bob"};
  r.decisions.push_back(
      {"dec_1", kId, "alice", "approve", Outcome::kApproved, "looks good", "", {}, kNow + 1min});
  r.decisions.push_back(
      {"dec_2", kId, "bob", "approve", Outcome::kApproved, "", "", {}, kNow + 2min});
  const json::value body = RenderJson(*channel, Row("request.resolved"), r);
  const auto& card = body.at("attachments").at(0).at("content").as_object();
  EXPECT_EQ(card.at("actions"), json::parse(R"json([{"type": "Action.OpenUrl",
    "title": "Open in the inbox",
    "url": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}])json"));
  const auto& blocks = card.at("body").as_array();
  EXPECT_EQ(blocks[0], json::parse(R"json({"type": "TextBlock", "text": "Approved by alice, bob",
    "weight": "Bolder", "color": "Good", "wrap": true})json"));
  EXPECT_EQ(blocks.back(), json::parse(R"json({"type": "FactSet", "facts": [
    {"title": "alice", "value": "Approve \u2014 \u201clooks good\u201d"},
    {"title": "bob", "value": "Approve"}]})json"));

  Request expired = Fixture();
  expired.status = RequestStatus::kExpired;
  const json::value e = RenderJson(*channel, Row("request.expired"), expired);
  EXPECT_EQ(e.at("attachments").at(0).at("content").at("body").at(0).at("text"),
            "Expired: no decision before the deadline");
  EXPECT_EQ(e.at("attachments").at(0).at("content").at("body").at(0).at("color"), "Warning");

  const json::value reminder = RenderJson(*channel, Row("request.reminded"), Fixture());
  EXPECT_EQ(reminder.at("attachments").at(0).at("content").at("body").at(0).at("text"),
            "Approval needed \u00b7 reminder: still waiting for a decision");
}

TEST_F(TeamsChannelTest, TheMessageCardFormatIsExactlyThisLegacyCard) {
  auto channel = Make(Settings("messagecard"));
  const Request r = Fixture();
  const json::value body = RenderJson(*channel, Row("request.created"), r);
  const json::value expected = json::parse(Fill(R"json({
    "@type": "MessageCard",
    "@context": "https://schema.org/extensions",
    "summary": "Approval needed: Deploy v2.0",
    "themeColor": "0076D7",
    "title": "Deploy v2.0",
    "sections": [
      {"activityTitle": "Approval needed", "markdown": false, "facts": [
        {"name": "Action", "value": "deploy_production"},
        {"name": "Requested by", "value": "ci-bot"},
        {"name": "Deadline", "value": "2026-11-21 10:15:00 UTC"},
        {"name": "Risk", "value": "normal"},
        {"name": "Policy", "value": "prod-deploys"},
        {"name": "Approvers", "value": "group:sre (2 needed)"}]},
      {"title": "Arguments", "text": "{\"ref\":\"v2.0\"}", "markdown": false}],
    "potentialAction": [
      {"@type": "OpenUri", "name": "Approve", "targets": [{"os": "default", "uri": "@APPROVE@"}]},
      {"@type": "OpenUri", "name": "Deny", "targets": [{"os": "default", "uri": "@DENY@"}]},
      {"@type": "OpenUri", "name": "Open in the inbox", "targets": [{"os": "default",
       "uri": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}]}]
  })json",
                                                Links(r, "channel:teams-ops")));
  EXPECT_EQ(body, expected) << json::serialize(body);

  Request denied = Fixture();
  denied.status = RequestStatus::kDenied;
  denied.resolved_by = {"carol"};
  const json::value outcome = RenderJson(*channel, Row("request.resolved"), denied);
  EXPECT_EQ(outcome.at("potentialAction"),
            json::parse(R"json([{"@type": "OpenUri", "name": "Open in the inbox",
              "targets": [{"os": "default",
                "uri": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}]}])json"));
  EXPECT_EQ(outcome.at("themeColor"), "D13438");
  EXPECT_EQ(outcome.at("summary"), "Denied by carol: Deploy v2.0");
}

TEST_F(TeamsChannelTest, LongArgumentsAreCut) {
  auto channel = Make(Settings());
  Request r = Fixture();
  r.arguments = {{"blob", std::string(10000, 'x')}};
  const json::value body = RenderJson(*channel, Row("request.created"), r);
  const std::string text(
      body.at("attachments").at(0).at("content").at("body").at(3).at("text").as_string());
  EXPECT_EQ(text.size(), TeamsChannel::kMaxArguments - 1 + std::string("\u2026").size());
}

TEST_F(TeamsChannelTest, ThrottlingIsRetriedEvenWhenALegacyConnectorSays200) {
  auto channel = Make(Settings("messagecard"));
  auto reply = [](int status, std::string body) {
    OutboundReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  };
  using K = DeliveryOutcome::Kind;
  const OutboxRow row = Row("request.created");
  EXPECT_EQ(channel->Interpret(row, reply(202, "")).kind, K::kDelivered);
  EXPECT_EQ(channel->Interpret(row, reply(200, "1")).kind, K::kDelivered);
  EXPECT_EQ(channel
                ->Interpret(row, reply(200,
                                       "Microsoft Teams endpoint returned HTTP error 429 with "
                                       "ContextId tcid=0,server=msgapi-production"))
                .kind,
            K::kRetry);
  EXPECT_EQ(channel->Interpret(row, reply(429, "")).kind, K::kRetry);
  EXPECT_EQ(channel->Interpret(row, reply(400, "Bad payload")).kind, K::kFailed);
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(TeamsChannelTest, AnActionsColourComesFromItsOutcomeAndACustomLabelSaysWhatItDoes) {
  auto channel = Make(Settings());
  Request r = Fixture();
  r.choices = {{"ship", "Ship it", "danger", Outcome::kApproved},
               {"hold", "Hold", "primary", Outcome::kDenied}};
  const json::value body = RenderJson(*channel, Row("request.created"), r);
  const auto& actions = body.at("attachments").at(0).at("content").at("actions").as_array();
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].at("title"), "Ship it \u2014 approves");
  EXPECT_EQ(actions[0].at("style"), "positive");
  EXPECT_EQ(actions[1].at("title"), "Hold \u2014 denies");
  EXPECT_EQ(actions[1].at("style"), "destructive");
}

// Teams renders Markdown in every Adaptive Card text and in a MessageCard's title: a requester
// must not be able to put a disguised link or shouting emphasis in front of an approver.
TEST_F(TeamsChannelTest, MarkdownInRequestTextIsShownAsTyped) {
  Request r = Fixture();
  r.title = "[Approve here](https://evil.example) **URGENT**";
  r.details = {{"note", "# not a heading"}};
  const std::string escaped_title_text =
      "\\[Approve here\\](https://evil.example) \\*\\*URGENT\\*\\*";

  const json::value adaptive = RenderJson(*Make(Settings()), Row("request.created"), r);
  const auto& body = adaptive.at("attachments").at(0).at("content").at("body").as_array();
  EXPECT_EQ(body.at(1).at("text"), json::value(escaped_title_text));
  bool saw_note = false;
  for (const auto& fact : body.at(2).at("facts").as_array()) {
    if (fact.at("title") == "note") {
      saw_note = true;
      EXPECT_EQ(fact.at("value"), "\\# not a heading");
    }
  }
  EXPECT_TRUE(saw_note);

  const json::value legacy = RenderJson(*Make(Settings("messagecard")), Row("request.created"), r);
  EXPECT_EQ(legacy.at("title"), json::value(escaped_title_text));
  // Sections go with "markdown": false, so their text is left as typed.
  EXPECT_EQ(legacy.at("sections").at(0).at("markdown"), false);
}

}  // namespace
}  // namespace countersign
