#include "notify/discord_channel.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "notify/button_key.hpp"
#include "notify/chat_text.hpp"
#include "testing/ed25519_test_key.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
constexpr char kChannelId[] = "1100000000000000001";
constexpr char kWebhook[] = "https://discord.example/api/webhooks/123/abc";
const TimePoint kNow = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z
constexpr char kInboxUrl[] = "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
constexpr char kNowSeconds[] = "1795255200";

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

OutboxRow Row(std::string kind, std::string event) {
  OutboxRow row;
  row.id = 1;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.destination = "dc-ops";
  row.kind = std::move(kind);
  row.event = std::move(event);
  return row;
}

OutboundReply Reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  OutboundReply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = std::move(headers);
  return reply;
}

std::string Header(const OutboundCall& call, const std::string& name) {
  for (const auto& [k, v] : call.headers) {
    if (k == name) return v;
  }
  return {};
}

// Each call is a new interaction, with an id of its own (the channel refuses one seen before).
std::string Click(const std::string& custom_id, const std::string& channel_id = kChannelId,
                  bool in_guild = true) {
  static int next_id = 0;
  json::object user{{"id", "80351110224678912"}, {"username", "alice"}, {"global_name", "Alice"}};
  json::object interaction{
      {"type", 3},
      {"id", std::to_string(1200000000000000000 + ++next_id)},
      {"application_id", "1000000000000000000"},
      {"token", "aW50ZXJhY3Rpb24tdG9rZW4"},
      {"version", 1},
      {"channel_id", channel_id},
      {"message", json::object{{"id", "1150000000000000000"}, {"channel_id", channel_id}}},
      {"data", json::object{{"custom_id", custom_id}, {"component_type", 2}}}};
  if (in_guild) {
    interaction["guild_id"] = "900000000000000000";
    interaction["member"] = json::object{{"user", user}, {"roles", json::array()}};
  } else {
    interaction["user"] = user;
  }
  return json::serialize(interaction);
}

class DiscordChannelTest : public ::testing::Test {
 protected:
  ChannelSettings AppSettings() {
    return {"dc-ops",
            "discord",
            {{"bot_token", "MTA5ODc2.Gx1a2b.bot-token"},
             {"channel_id", kChannelId},
             {"public_key", key_.public_key_hex()},
             {"api_base", "http://127.0.0.1:9/api/v10/"}},
            "countersign.toml:40",
            {}};
  }
  ChannelSettings WebhookSettings(std::string url = kWebhook) {
    return {"dc-hook", "discord", {{"webhook_url", std::move(url)}}, "countersign.toml:50", {}};
  }

  std::unique_ptr<DiscordChannel> Make(ChannelSettings settings) {
    auto made = DiscordChannel::Create(std::move(settings), links_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  std::pair<OutboundCall, json::value> RenderJson(const Channel& channel, const OutboxRow& row,
                                                  const Request& r, std::string_view ref = {}) {
    auto call = channel.Render(row, r, ref);
    EXPECT_TRUE(call.ok()) << call.error().message;
    if (!call.ok()) return {};
    return {call.value(), json::parse(call->body)};
  }

  InboundCallback Signed(const std::string& body, const std::string& timestamp = kNowSeconds) {
    InboundCallback cb;
    cb.headers["x-signature-ed25519"] = key_.SignHex(timestamp + body);
    cb.headers["x-signature-timestamp"] = timestamp;
    cb.headers["content-type"] = "application/json";
    cb.body = body;
    return cb;
  }

  testing::Ed25519TestKey key_;
  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
};

// The components of a message whose choices have gone: the link to the request's inbox page.
json::array InboxRow() {
  return json::array{json::object{
      {"type", 1},
      {"components",
       json::array{json::object{
           {"type", 2}, {"style", 5}, {"label", "Open in the inbox"}, {"url", kInboxUrl}}}}}};
}

// The embed and content of Fixture() while pending.
json::object PendingEmbed() {
  return json::parse(R"json({
    "title": "Deploy v2.0",
    "description": "**Approval needed**",
    "color": 5793266,
    "fields": [
      {"name": "Action", "value": "`deploy_production`", "inline": true},
      {"name": "Requested by", "value": "ci-bot", "inline": true},
      {"name": "Deadline", "value": "<t:1795256100:f>", "inline": true},
      {"name": "Risk", "value": "normal", "inline": true},
      {"name": "Approvers", "value": "group:sre (2 needed)", "inline": true},
      {"name": "Arguments", "value": "```json\n{\n  \"ref\": \"v2.0\"\n}\n```", "inline": false}],
    "footer": {"text":
      "Request req_01JD3Z6Q8W9K4M2N7P5R0S1T2V \u00b7 policy prod-deploys \u00b7 0 of 2 approvals"}
  })json")
      .as_object();
}

TEST_F(DiscordChannelTest, SettingsChooseAModeAndErrorsNameTheKey) {
  auto error = [&](ChannelSettings s) {
    auto made = DiscordChannel::Create(std::move(s), links_);
    return made.ok() ? std::string("ok") : made.error().message;
  };
  EXPECT_EQ(error(AppSettings()), "ok");
  EXPECT_EQ(error(WebhookSettings()), "ok");
  ChannelSettings none{"d", "discord", {}, "cs.toml:3", {}};
  EXPECT_NE(error(none).find("webhook_url"), std::string::npos);
  EXPECT_NE(error(none).find("cs.toml:3"), std::string::npos);
  auto both = AppSettings();
  both.values["webhook_url"] = kWebhook;
  EXPECT_NE(error(both).find("not both"), std::string::npos);
  for (const char* key : {"channel_id", "public_key"}) {
    auto s = AppSettings();
    s.values.erase(key);
    EXPECT_NE(error(s).find(key), std::string::npos) << error(s);
  }
  auto bad_key = AppSettings();
  bad_key.values["public_key"] = "abcd";
  EXPECT_NE(error(bad_key).find("public_key"), std::string::npos);
  auto bad_channel = AppSettings();
  bad_channel.values["channel_id"] = "#ops";
  EXPECT_NE(error(bad_channel).find("channel_id"), std::string::npos);
  auto principal_in_app_mode = AppSettings();
  principal_in_app_mode.values["principal"] = "alice";
  EXPECT_NE(error(principal_in_app_mode).find("'principal'"), std::string::npos);
  EXPECT_NE(error(WebhookSettings("ftp://x")).find("webhook_url"), std::string::npos);
}

TEST_F(DiscordChannelTest, KindsEditTheMessageInPlaceInBothModes) {
  using V = std::vector<std::string>;
  const auto app = Make(AppSettings());
  const auto hook = Make(WebhookSettings());
  for (const DiscordChannel* channel : {app.get(), hook.get()}) {
    EXPECT_EQ(channel->KindsFor("request.created"), V{"post"});
    EXPECT_EQ(channel->KindsFor("decision.recorded"), V{"update"});
    EXPECT_EQ(channel->KindsFor("request.resolved"), V{"update"});
    EXPECT_EQ(channel->KindsFor("request.expired"), V{"update"});
    EXPECT_EQ(channel->KindsFor("request.cancelled"), V{"update"});
    EXPECT_EQ((channel->KindsFor("request.escalated")), (V{"update", "remind"}));
    EXPECT_EQ(channel->KindsFor("request.reminded"), V{"remind"});
    EXPECT_EQ(channel->KindsFor("decision.rejected"), V{});
  }
}

TEST_F(DiscordChannelTest, AnApplicationPostIsAnEmbedWithButtonsCarryingShortCustomIds) {
  auto channel = Make(AppSettings());
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), Fixture());
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "http://127.0.0.1:9/api/v10/channels/1100000000000000001/messages");
  EXPECT_EQ(Header(call, "Authorization"), "Bot MTA5ODc2.Gx1a2b.bot-token");
  EXPECT_EQ(Header(call, "Content-Type"), "application/json");
  EXPECT_TRUE(Header(call, "User-Agent").starts_with("DiscordBot ("));
  const json::value expected = {{"content", "Approval needed: Deploy v2.0"},
                                {"embeds", json::array{PendingEmbed()}},
                                {"components", json::parse(R"json([{"type": 1, "components": [
         {"type": 2, "label": "Approve", "style": 1,
          "custom_id": "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0"},
         {"type": 2, "label": "Deny", "style": 4,
          "custom_id": "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:1"},
         {"type": 2, "style": 5, "label": "Open in the inbox",
          "url": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}]}])json")},
                                {"allowed_mentions", {{"parse", json::array()}}}};
  EXPECT_EQ(body, expected) << json::serialize(body);
}

TEST_F(DiscordChannelTest, CustomIdsStayWithinDiscordsLimitAndRowsHoldFiveButtons) {
  auto channel = Make(AppSettings());
  Request r = Fixture();
  r.choices.clear();
  for (int i = 0; i < 10; ++i) {
    r.choices.push_back({std::string(63, 'c') + std::to_string(i), std::string(100, 'L'), "default",
                         Outcome::kApproved});
  }
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& rows = body.at("components").as_array();
  // Two full rows of choices, then the inbox link on a row of its own.
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].at("components"), json::parse(R"json([{"type": 2, "style": 5,
    "label": "Open in the inbox",
    "url": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}])json"));
  size_t i = 0;
  for (size_t n = 0; n < 2; ++n) {
    const auto& row = rows[n];
    ASSERT_EQ(row.at("components").as_array().size(), 5u);
    for (const auto& button : row.at("components").as_array()) {
      const std::string custom_id(button.at("custom_id").as_string());
      EXPECT_LE(custom_id.size(), DiscordChannel::kMaxCustomId);
      EXPECT_EQ(ButtonKey::Parse(custom_id)->choice_index, i++);
      EXPECT_EQ(button.at("style"), 2);
      EXPECT_EQ(TextLength(std::string(button.at("label").as_string())), DiscordChannel::kMaxLabel);
    }
  }
}

TEST_F(DiscordChannelTest, AWebhookPostHasLinkButtonsToOneClickLinksAndAsksForTheMessage) {
  auto channel = Make(WebhookSettings());
  const Request r = Fixture();
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, std::string(kWebhook) + "?wait=true&with_components=true");
  EXPECT_EQ(Header(call, "Authorization"), "");
  EXPECT_EQ(body.at("embeds").at(0), PendingEmbed());
  EXPECT_EQ(body.at("components"),
            (json::array{json::object{
                {"type", 1},
                {"components",
                 json::array{json::object{{"type", 2},
                                          {"label", "Approve"},
                                          {"style", 5},
                                          {"url", links_.Url(r, "approve", "channel:dc-hook")}},
                             json::object{{"type", 2},
                                          {"label", "Deny"},
                                          {"style", 5},
                                          {"url", links_.Url(r, "deny", "channel:dc-hook")}},
                             json::object{{"type", 2},
                                          {"style", 5},
                                          {"label", "Open in the inbox"},
                                          {"url", kInboxUrl}}}}}}));
}

TEST_F(DiscordChannelTest, TheInboxLinkSharesTheLastRowWhenItHasRoomAndFollowsThePublicUrl) {
  LinkBuilder with_path{"https://example.com/approvals", signer_};
  auto made = DiscordChannel::Create(AppSettings(), with_path);
  ASSERT_TRUE(made.ok()) << made.error().message;
  Request r = Fixture();
  r.choices.clear();
  for (int i = 0; i < 7; ++i) {
    r.choices.push_back({"c" + std::to_string(i), "C", "default", Outcome::kApproved});
  }
  auto [call, body] = RenderJson(**made, Row("post", "request.created"), r);
  const auto& rows = body.at("components").as_array();
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[0].at("components").as_array().size(), 5u);
  const auto& last = rows[1].at("components").as_array();
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[2].at("url"),
            "https://example.com/approvals/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V");

  // A question gets no choice buttons from an application: the inbox link is the row.
  Request question = Fixture();
  question.kind = Kind::kQuestion;
  question.choices.clear();
  auto [c2, b2] = RenderJson(**made, Row("post", "request.created"), question);
  ASSERT_EQ(b2.at("components").as_array().size(), 1u);
  EXPECT_EQ(b2.at("components").at(0).at("components").at(0).at("label"), "Open in the inbox");

  // Over Discord's 512 characters for a url: the message goes without the link.
  LinkBuilder too_long{"https://example.com/" + std::string(500, 'a'), signer_};
  auto long_made = DiscordChannel::Create(AppSettings(), too_long);
  ASSERT_TRUE(long_made.ok());
  auto [c3, b3] = RenderJson(**long_made, Row("post", "request.created"), Fixture());
  ASSERT_EQ(b3.at("components").as_array().size(), 1u);
  EXPECT_EQ(b3.at("components").at(0).at("components").as_array().size(), 2u);
}

TEST_F(DiscordChannelTest, AFormOfferIsEphemeralWithALinkButtonBoundToThePresser) {
  auto channel = Make(AppSettings());
  const json::object data = channel->FormOffer(Fixture(), "approve", "alice", "needs a form");
  EXPECT_EQ(data.at("content"), "needs a form");
  EXPECT_EQ(data.at("flags"), 64);
  const auto& button = data.at("components").at(0).at("components").at(0);
  EXPECT_EQ(button.at("style"), 5);
  EXPECT_EQ(button.at("label"), "Open the form");
  EXPECT_EQ(button.at("url").as_string(), links_.Url(Fixture(), "approve", "alice"));

  Request approved = Fixture();
  approved.status = RequestStatus::kApproved;
  EXPECT_FALSE(channel->FormOffer(approved, "approve", "alice", "x").contains("components"));
}

TEST_F(DiscordChannelTest, UpdatesPatchTheMessageAndDropTheChoicesOnceResolved) {
  Request r = Fixture();
  Decision d;
  d.principal = "alice";
  d.choice = "deny";
  d.comment = "not *now*";
  r.decisions.push_back(d);
  r.status = RequestStatus::kDenied;
  r.resolved_by = {"alice"};
  const std::string ref =
      R"({"channel_id":"1100000000000000001","message_id":"1150000000000000000"})";

  auto app = Make(AppSettings());
  auto [call, body] = RenderJson(*app, Row("update", "request.resolved"), r, ref);
  EXPECT_EQ(call.method, "PATCH");
  EXPECT_EQ(call.url,
            "http://127.0.0.1:9/api/v10/channels/1100000000000000001/messages/1150000000000000000");
  EXPECT_EQ(body.at("components"), InboxRow());
  EXPECT_EQ(body.at("content"), "Denied by alice: Deploy v2.0");
  const auto& embed = body.at("embeds").at(0);
  EXPECT_EQ(embed.at("description"), "\u274c **Denied by alice**");
  EXPECT_EQ(embed.at("color"), 0xED4245);
  EXPECT_EQ(embed.at("fields").as_array().back(), json::parse(R"({"name":"Decisions","inline":false,
                            "value":"\u2022 alice: Deny \u2014 \u201cnot \\*now\\*\u201d"})"));

  auto hook = Make(WebhookSettings(std::string(kWebhook) + "?thread_id=777"));
  auto [hook_call, hook_body] = RenderJson(*hook, Row("update", "request.resolved"), r, ref);
  EXPECT_EQ(hook_call.method, "PATCH");
  EXPECT_EQ(hook_call.url, std::string(kWebhook) +
                               "/messages/1150000000000000000?thread_id=777&with_components=true");
  EXPECT_EQ(hook_body.at("components"), InboxRow());
  auto [post, post_body] = RenderJson(*hook, Row("post", "request.created"), Fixture());
  EXPECT_EQ(post.url, std::string(kWebhook) + "?thread_id=777&wait=true&with_components=true");
}

TEST_F(DiscordChannelTest, AnUpdateWithNothingToEditPostsAndARemindRepliesWithoutButtons) {
  auto app = Make(AppSettings());
  auto [post, post_body] = RenderJson(*app, Row("update", "decision.recorded"), Fixture());
  EXPECT_EQ(post.method, "POST");
  EXPECT_TRUE(post.url.ends_with("/channels/1100000000000000001/messages"));

  const std::string ref =
      R"({"channel_id":"1100000000000000001","message_id":"1150000000000000000"})";
  auto [remind, remind_body] = RenderJson(*app, Row("remind", "request.reminded"), Fixture(), ref);
  EXPECT_EQ(remind.method, "POST");
  EXPECT_EQ(remind_body, json::parse(R"json({
              "content": "\ud83d\udd14 Reminder: **Deploy v2.0** is still waiting for a decision (deadline <t:1795256100:f>).",
              "allowed_mentions": {"parse": []},
              "message_reference": {"message_id": "1150000000000000000", "fail_if_not_exists": false}
            })json"));
  auto hook = Make(WebhookSettings());
  auto [hook_remind, hook_body] =
      RenderJson(*hook, Row("remind", "request.reminded"), Fixture(), ref);
  EXPECT_EQ(hook_remind.url, std::string(kWebhook) + "?wait=true");
  EXPECT_FALSE(hook_body.as_object().contains("components"));
  EXPECT_FALSE(hook_body.as_object().contains("message_reference"));
}

TEST_F(DiscordChannelTest, UserTextCannotFormatMentionOrLink) {
  auto app = Make(AppSettings());
  Request r = Fixture();
  r.title = "[Approve](https://evil.example) <@123> **bold** `x` ~~s~~ ||spoiler||";
  r.requester = "# big\n- item";
  auto [call, body] = RenderJson(*app, Row("post", "request.created"), r);
  const auto& embed = body.at("embeds").at(0);
  EXPECT_EQ(embed.at("title"),
            "\\[Approve\\](https://evil.example) \\<@123\\> \\*\\*bold\\*\\* \\`x\\` \\~\\~s\\~\\~ "
            "\\|\\|spoiler\\|\\|");
  EXPECT_EQ(embed.at("fields").at(1).at("value"), "\\# big\n\\- item");
  EXPECT_EQ(body.at("allowed_mentions"), json::parse(R"({"parse":[]})"));

  Request huge = Fixture();
  huge.title = std::string(1000, '*');
  huge.arguments = {{"sql", std::string(5000, '`')}};
  auto [huge_call, huge_body] = RenderJson(*app, Row("post", "request.created"), huge);
  const std::string title(huge_body.at("embeds").at(0).at("title").as_string());
  EXPECT_LE(TextLength(title), DiscordChannel::kMaxTitle);
  EXPECT_FALSE(title.ends_with("\\" + std::string(kEllipsis)));
  for (const auto& field : huge_body.at("embeds").at(0).at("fields").as_array()) {
    EXPECT_LE(TextLength(std::string(field.at("value").as_string())),
              DiscordChannel::kMaxFieldValue);
  }
  EXPECT_LE(TextLength(std::string(huge_body.at("content").as_string())),
            DiscordChannel::kMaxContent);
}

TEST_F(DiscordChannelTest, InterpretKeepsTheMessageRefAndHonoursRetryAfter) {
  auto app = Make(AppSettings());
  const auto post = Row("post", "request.created");
  auto sent = app->Interpret(
      post, Reply(200, R"({"id":"1150000000000000000","channel_id":"1100000000000000001",
                          "type":0,"content":"x"})"));
  EXPECT_EQ(sent.kind, DeliveryOutcome::Kind::kDelivered);
  EXPECT_EQ(sent.message_ref,
            R"({"channel_id":"1100000000000000001","message_id":"1150000000000000000"})");

  auto limited = app->Interpret(
      post, Reply(429, R"({"message":"You are being rate limited.","retry_after":1.25,
                          "global":false})",
                  {{"retry-after", "1"}}));
  EXPECT_EQ(limited.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(limited.retry_after, std::chrono::seconds(2));
  auto header_only = app->Interpret(post, Reply(429, "", {{"retry-after", "4"}}));
  EXPECT_EQ(header_only.retry_after, std::chrono::seconds(4));

  EXPECT_EQ(app->Interpret(post, Reply(502, "bad gateway")).kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(app->Interpret(post, Reply(0, "")).kind, DeliveryOutcome::Kind::kRetry);
  auto gone = app->Interpret(Row("update", "request.resolved"),
                             Reply(404, R"({"message":"Unknown Message","code":10008})"));
  EXPECT_EQ(gone.kind, DeliveryOutcome::Kind::kFailed);
  EXPECT_EQ(gone.error, "discord: HTTP 404 code 10008 Unknown Message");
  auto reminded = app->Interpret(
      Row("remind", "request.reminded"),
      Reply(200, R"({"id":"1160000000000000000","channel_id":"1100000000000000001"})"));
  EXPECT_EQ(reminded.message_ref, "");
}

TEST_F(DiscordChannelTest, APingAndAClickAreReadOnlyWhenSignedWithTheApplicationKey) {
  auto app = Make(AppSettings());
  auto ping = app->ReadInteraction(Signed(R"({"type":1,"id":"1","application_id":"2"})"), kNow);
  ASSERT_TRUE(ping.ok()) << ping.error().message;
  EXPECT_EQ(ping->type, DiscordInteraction::Type::kPing);

  const std::string click = Click(ButtonKey::Encode(kId, 1));
  auto read = app->ReadInteraction(Signed(click), kNow);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->type, DiscordInteraction::Type::kComponent);
  EXPECT_TRUE(read->in_channel);
  ASSERT_TRUE(read->press);
  EXPECT_EQ(read->press->identity, "discord:80351110224678912");
  EXPECT_EQ(read->press->display_name, "Alice");
  EXPECT_EQ(read->press->request_id, kId);
  EXPECT_EQ(read->press->choice_index, 1u);
  EXPECT_EQ(read->press->response_url, "");
  auto direct =
      app->ParseCallback(Signed(Click(ButtonKey::Encode(kId, 0), kChannelId, false)), kNow);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->identity, "discord:80351110224678912");

  InboundCallback forged = Signed(click);
  forged.body = Click(ButtonKey::Encode(kId, 0));
  EXPECT_EQ(app->ReadInteraction(forged, kNow).error().code, ErrorCode::kUnauthorized);
  testing::Ed25519TestKey other;
  InboundCallback other_key = Signed(click);
  other_key.headers["x-signature-ed25519"] = other.SignHex(kNowSeconds + click);
  EXPECT_EQ(app->ReadInteraction(other_key, kNow).error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(app->ReadInteraction(Signed(click), kNow + 301s).error().code,
            ErrorCode::kUnauthorized);
  InboundCallback unsigned_click = Signed(click);
  unsigned_click.headers.erase("x-signature-ed25519");
  EXPECT_EQ(app->ReadInteraction(unsigned_click, kNow).error().code, ErrorCode::kUnauthorized);

  auto hook = Make(WebhookSettings());
  EXPECT_EQ(hook->ReadInteraction(Signed(click), kNow).error().code, ErrorCode::kUnauthorized);
}

TEST_F(DiscordChannelTest, AReplayedInteractionIsRefusedEvenWithItsValidSignature) {
  auto app = Make(AppSettings());
  const InboundCallback click = Signed(Click(ButtonKey::Encode(kId, 1)));
  ASSERT_TRUE(app->ParseCallback(click, kNow).ok());
  auto replayed = app->ParseCallback(click, kNow + 5s);
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(replayed.error().message, "this request was already received");
  EXPECT_TRUE(app->ParseCallback(Signed(Click(ButtonKey::Encode(kId, 1))), kNow).ok())
      << "another interaction of the same button is a new click";
}

TEST_F(DiscordChannelTest, OtherInteractionsChannelsAndButtonsAreToldApart) {
  auto app = Make(AppSettings());
  auto command = app->ReadInteraction(Signed(R"({"type":2,"data":{"name":"approve"}})"), kNow);
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->type, DiscordInteraction::Type::kOther);
  EXPECT_EQ(app->ParseCallback(Signed(R"({"type":2})"), kNow).error().code, ErrorCode::kInvalid);

  auto foreign = app->ReadInteraction(Signed(Click("poll:yes")), kNow);
  ASSERT_TRUE(foreign.ok());
  EXPECT_FALSE(foreign->press);
  const auto elsewhere = [] { return Click(ButtonKey::Encode(kId, 0), "1100000000000000999"); };
  EXPECT_FALSE(app->ReadInteraction(Signed(elsewhere()), kNow)->in_channel);
  EXPECT_EQ(app->ParseCallback(Signed(elsewhere()), kNow).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(app->ReadInteraction(Signed("[1,2]"), kNow).error().code, ErrorCode::kMalformed);
}

TEST_F(DiscordChannelTest, MessageDataIsWhatAnUpdateMessageAnswerCarries) {
  auto app = Make(AppSettings());
  Request r = Fixture();
  r.quorum = 1;
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  auto data = app->MessageData(r, "decision.recorded");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->at("content"), "Approved by alice: Deploy v2.0");
  EXPECT_EQ(data->at("components"), InboxRow());
  auto [call, body] = RenderJson(*app, Row("update", "decision.recorded"), r,
                                 R"({"channel_id":"1","message_id":"2"})");
  EXPECT_EQ(json::value(*data), body);
}

TEST_F(DiscordChannelTest, AnInteractionNamingAKeyTwiceIsRefused) {
  auto app = Make(AppSettings());
  auto read =
      app->ReadInteraction(Signed(R"({"type":1,"id":"1","type":3,"application_id":"2"})"), kNow);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kMalformed);
  EXPECT_NE(read.error().message.find("\"type\" twice"), std::string::npos);
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(DiscordChannelTest, AButtonsColourComesFromItsOutcomeAndACustomLabelSaysWhatItDoes) {
  auto channel = Make(AppSettings());
  Request r = Fixture();
  r.choices = {{"ship", "Ship it", "danger", Outcome::kApproved},
               {"hold", "Hold", "primary", Outcome::kDenied}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& buttons = body.at("components").at(0).at("components").as_array();
  ASSERT_EQ(buttons.size(), 3u);  // the two choices, then the inbox link
  EXPECT_EQ(buttons[0].at("label"), "Ship it \u2014 approves");
  EXPECT_EQ(buttons[0].at("style"), 1);
  EXPECT_EQ(buttons[1].at("label"), "Hold \u2014 denies");
  EXPECT_EQ(buttons[1].at("style"), 4);
}

TEST_F(DiscordChannelTest, GrantOptionsGetARowOfApproveButtonsAndAClickNamesTheScope) {
  auto channel = Make(AppSettings());
  Request r = Fixture();
  r.quorum = 1;
  r.session = "sess-1";
  r.grant_options = {{"session", 1h}, {"requester", 30 * 24h}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const json::array& rows = body.at("components").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("components").as_array().size(), 2u);
  EXPECT_EQ(rows[1], json::parse(R"json({"type": 1, "components": [
         {"type": 2, "label": "Approve for this session (1 h)", "style": 1,
          "custom_id": "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0:s"},
         {"type": 2, "label": "Always approve deploy_production for ci-bot (30 days)", "style": 1,
          "custom_id": "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0:r"},
         {"type": 2, "style": 5, "label": "Open in the inbox",
          "url": "https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"}]})json"));

  auto press = channel->ParseCallback(Signed(Click(ButtonKey::Encode(kId, 0, "requester"))), kNow);
  ASSERT_TRUE(press.ok()) << press.error().message;
  EXPECT_EQ(press->choice_index, 0u);
  EXPECT_EQ(press->grant_scope, "requester");

  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  auto data = channel->MessageData(r, "decision.recorded", GrantOption{"session", 1h});
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->at("content"),
            "Approved by alice \u2014 and approved for this session for 1 h: Deploy v2.0");
}

}  // namespace
}  // namespace countersign
