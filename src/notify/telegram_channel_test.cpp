#include "notify/telegram_channel.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "notify/button_key.hpp"
#include "notify/chat_text.hpp"
#include "notify/link_builder.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
constexpr char kToken[] = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
constexpr char kSecret[] = "s3cr3t_T0ken-for-the-webhook";
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

ChannelSettings Settings() {
  return {"tg-ops",
          "telegram",
          {{"bot_token", kToken},
           {"chat_id", "-1001234567890"},
           {"secret_token", kSecret},
           {"api_base", "http://127.0.0.1:9/"}},
          "countersign.toml:30",
          {}};
}

OutboxRow Row(std::string kind, std::string event, std::string target = "",
              std::string payload = "{}") {
  OutboxRow row;
  row.id = 1;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.destination = "tg-ops";
  row.kind = std::move(kind);
  row.event = std::move(event);
  row.target = std::move(target);
  row.payload = std::move(payload);
  return row;
}

OutboundReply Reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  OutboundReply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = std::move(headers);
  return reply;
}

constexpr char kPendingText[] =
    "<b>Approval needed</b>\n"
    "<b>Deploy v2.0</b>\n\n"
    "Action: <code>deploy_production</code>\n"
    "Requested by: ci-bot\n"
    "Deadline: 2026-11-21 10:15 UTC\n"
    "Risk: normal\n"
    "Approvers: group:sre (2 needed)\n\n"
    "<b>Arguments</b>\n<pre>{\n  \"ref\": \"v2.0\"\n}</pre>\n\n"
    "<i>Request req_01JD3Z6Q8W9K4M2N7P5R0S1T2V \u00b7 policy prod-deploys \u00b7 0 of 2 "
    "approvals</i>\n"
    "<a href=\"https://cs.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V\">Open in the "
    "inbox</a>";

// What Telegram counts: the text once tags are dropped and entities decoded.
std::string VisibleText(const std::string& html) {
  std::string out;
  for (size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '<') {
      i = html.find('>', i);
      continue;
    }
    if (html[i] == '&') {
      const size_t semi = html.find(';', i);
      const std::string entity = html.substr(i, semi - i + 1);
      out += entity == "&amp;" ? "&" : entity == "&lt;" ? "<" : entity == "&gt;" ? ">" : "?";
      i = semi;
      continue;
    }
    out += html[i];
  }
  return out;
}

InboundCallback Update(const std::string& body, const std::string& secret = kSecret) {
  InboundCallback cb;
  if (!secret.empty()) cb.headers["x-telegram-bot-api-secret-token"] = secret;
  cb.headers["content-type"] = "application/json";
  cb.body = body;
  return cb;
}

// Each call is a new update, with an update_id of its own (the channel refuses one seen before).
std::string CallbackQuery(const std::string& data, int64_t chat_id = -1001234567890,
                          const std::string& chat_username = "") {
  static int64_t next_update = 10000;
  json::object chat{{"id", chat_id}, {"type", "supergroup"}, {"title", "Ops"}};
  if (!chat_username.empty()) chat["username"] = chat_username;
  return json::serialize(json::object{
      {"update_id", ++next_update},
      {"callback_query",
       json::object{
           {"id", "4382bfdwdsb323b2d9"},
           {"from", json::object{{"id", 123456789},
                                 {"is_bot", false},
                                 {"first_name", "Alice"},
                                 {"username", "alice_ops"}}},
           {"message", json::object{{"message_id", 42}, {"date", 1795255200}, {"chat", chat}}},
           {"chat_instance", "-8204528415012345678"},
           {"data", data}}}});
}

class TelegramChannelTest : public ::testing::Test {
 protected:
  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};

  std::unique_ptr<TelegramChannel> Make(ChannelSettings settings = Settings()) {
    auto made = TelegramChannel::Create(std::move(settings), &links_);
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
};

TEST_F(TelegramChannelTest, SettingsNeedTokenChatAndSecretAndErrorsNameTheKey) {
  auto error = [&](ChannelSettings s) {
    auto made = TelegramChannel::Create(std::move(s));
    return made.ok() ? std::string("ok") : made.error().message;
  };
  EXPECT_EQ(error(Settings()), "ok");
  for (const char* key : {"bot_token", "chat_id", "secret_token"}) {
    auto s = Settings();
    s.values.erase(key);
    EXPECT_NE(error(s).find(key), std::string::npos) << error(s);
    EXPECT_NE(error(s).find("countersign.toml:30"), std::string::npos);
  }
  auto bad_token = Settings();
  bad_token.values["bot_token"] = "123/../../x";
  EXPECT_NE(error(bad_token).find("bot_token"), std::string::npos);
  auto bad_chat = Settings();
  bad_chat.values["chat_id"] = "ops channel";
  EXPECT_NE(error(bad_chat).find("chat_id"), std::string::npos);
  auto named_chat = Settings();
  named_chat.values["chat_id"] = "@ops_approvals";
  EXPECT_EQ(error(named_chat), "ok");
  auto bad_secret = Settings();
  bad_secret.values["secret_token"] = "has spaces";
  EXPECT_NE(error(bad_secret).find("secret_token"), std::string::npos);
  bad_secret.values["secret_token"] = std::string(257, 'a');
  EXPECT_NE(error(bad_secret).find("secret_token"), std::string::npos);
  auto unknown = Settings();
  unknown.values["parse_mode"] = "Markdown";
  EXPECT_NE(error(unknown).find("'parse_mode'"), std::string::npos);
}

TEST_F(TelegramChannelTest, KindsEditTheMessageInPlaceAndReplyToNudge) {
  auto channel = Make();
  using V = std::vector<std::string>;
  EXPECT_EQ(channel->KindsFor("request.created"), V{"post"});
  EXPECT_EQ(channel->KindsFor("decision.recorded"), V{"update"});
  EXPECT_EQ(channel->KindsFor("request.resolved"), V{"update"});
  EXPECT_EQ(channel->KindsFor("request.expired"), V{"update"});
  EXPECT_EQ(channel->KindsFor("request.cancelled"), V{"update"});
  EXPECT_EQ((channel->KindsFor("request.escalated")), (V{"update", "remind"}));
  EXPECT_EQ(channel->KindsFor("request.reminded"), V{"remind"});
  EXPECT_EQ(channel->KindsFor("decision.rejected"), V{});
  EXPECT_TRUE(channel->AnswersEveryPress());
}

TEST_F(TelegramChannelTest, APostIsSendMessageWithHtmlAndOneButtonPerChoice) {
  auto channel = Make();
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), Fixture());
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, std::string("http://127.0.0.1:9/bot") + kToken + "/sendMessage");
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0],
            (std::pair<std::string, std::string>{"Content-Type", "application/json"}));
  const json::value expected = {
      {"chat_id", -1001234567890},
      {"text", kPendingText},
      {"parse_mode", "HTML"},
      {"link_preview_options", {{"is_disabled", true}}},
      {"reply_markup",
       {{"inline_keyboard",
         json::array{json::array{
             json::object{{"text", "Approve"},
                          {"callback_data", "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0"}},
             json::object{{"text", "Deny"},
                          {"callback_data", "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:1"}}}}}}}};
  EXPECT_EQ(body, expected) << json::serialize(body);
}

TEST_F(TelegramChannelTest, AChannelUsernameIsPostedToAsAString) {
  auto settings = Settings();
  settings.values["chat_id"] = "@ops_approvals";
  auto channel = Make(settings);
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), Fixture());
  EXPECT_EQ(body.at("chat_id"), "@ops_approvals");
}

TEST_F(TelegramChannelTest, CallbackDataStaysWithin64BytesWhateverTheChoiceIds) {
  auto channel = Make();
  Request r = Fixture();
  r.choices.clear();
  for (int i = 0; i < 10; ++i) {
    r.choices.push_back({std::string(63, 'a') + std::to_string(i), "Choice " + std::to_string(i),
                         "default", Outcome::kApproved});
  }
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& rows = body.at("reply_markup").at("inline_keyboard").as_array();
  ASSERT_EQ(rows.size(), 4u);  // 3 + 3 + 3 + 1
  size_t i = 0;
  for (const auto& row : rows) {
    for (const auto& button : row.as_array()) {
      const std::string data(button.at("callback_data").as_string());
      EXPECT_LE(data.size(), TelegramChannel::kMaxCallbackData);
      auto key = ButtonKey::Parse(data);
      ASSERT_TRUE(key);
      EXPECT_EQ(key->request_id, kId);
      EXPECT_EQ(key->choice_index, i++);
    }
  }
  EXPECT_EQ(i, 10u);
}

TEST_F(TelegramChannelTest, UserTextIsEscapedAndTheMessageStaysWithinTelegramsLimit) {
  auto channel = Make();
  Request r = Fixture();
  r.title = "<b>fake</b> & \"real\"";
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const std::string text(body.at("text").as_string());
  EXPECT_NE(text.find("<b>&lt;b&gt;fake&lt;/b&gt; &amp; \"real\"</b>"), std::string::npos) << text;

  Request huge = Fixture();
  huge.title = std::string(5000, '&');
  huge.requester = std::string(500, '<');
  huge.approvers = std::vector<std::string>(100, std::string(100, 'x'));
  huge.details = {{"why", std::string(5000, '>')}, {"ticket", "OPS-1"}};
  huge.arguments = {{"sql", std::string(9000, 'q')}};
  huge.action = std::string(128, 'a');
  huge.policy = std::string(128, 'p');
  huge.risk = std::string(128, 'r');
  huge.escalation_level = 10;
  huge.quorum = 100;
  huge.resolved_by = std::vector<std::string>(100, std::string(64, 'b'));
  for (int i = 0; i < 50; ++i) {
    Decision d;
    d.principal = "approver" + std::to_string(i);
    d.choice = "approve";
    for (int j = 0; j < 100; ++j) d.comment += "\U0001f680&";
    huge.decisions.push_back(d);
  }
  for (RequestStatus status : {RequestStatus::kPending, RequestStatus::kApproved}) {
    huge.status = status;
    auto [huge_call, huge_body] = RenderJson(*channel, Row("post", "request.escalated"), huge);
    const std::string huge_text(huge_body.at("text").as_string());
    EXPECT_LE(TextLength(VisibleText(huge_text)), TelegramChannel::kMaxText);
    // Cuts never leave half an entity behind.
    EXPECT_EQ(VisibleText(huge_text).find('?'), std::string::npos);
  }
}

TEST_F(TelegramChannelTest, AnUpdateEditsTheMessageAndDropsTheKeyboardOnceResolved) {
  auto channel = Make();
  Request r = Fixture();
  Decision d;
  d.principal = "alice";
  d.choice = "approve";
  d.comment = "ship <it>";
  r.decisions.push_back(d);
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  auto [call, body] = RenderJson(*channel, Row("update", "request.resolved"), r,
                                 R"({"chat_id":-1001234567890,"message_id":42})");
  EXPECT_EQ(call.url, std::string("http://127.0.0.1:9/bot") + kToken + "/editMessageText");
  EXPECT_EQ(body.at("chat_id"), -1001234567890);
  EXPECT_EQ(body.at("message_id"), 42);
  EXPECT_EQ(body.at("reply_markup"), json::parse(R"({"inline_keyboard":[]})"));
  const std::string text(body.at("text").as_string());
  EXPECT_TRUE(text.starts_with("\u2705 <b>Approved by alice</b>\n<b>Deploy v2.0</b>")) << text;
  EXPECT_NE(text.find("<b>Decisions</b>\n\u2022 alice: Approve \u2014 \u201cship &lt;it&gt;\u201d"),
            std::string::npos)
      << text;
  EXPECT_TRUE(
      text.ends_with("<i>Request req_01JD3Z6Q8W9K4M2N7P5R0S1T2V \u00b7 policy "
                     "prod-deploys</i>\n<a "
                     "href=\"https://cs.example.com/ui/requests/"
                     "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V\">Open in the inbox</a>"))
      << text;
}

TEST_F(TelegramChannelTest, TheInboxLinkIsInTheTextFollowsThePublicUrlAndNeedsALinkBuilder) {
  // A path, with a character HTML would read: escaped in the href.
  LinkBuilder with_path{"https://example.com/approvals&co", signer_};
  auto made = TelegramChannel::Create(Settings(), &with_path);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto [call, body] = RenderJson(**made, Row("post", "request.created"), Fixture());
  const std::string text(body.at("text").as_string());
  EXPECT_TRUE(
      text.ends_with("</i>\n<a href=\"https://example.com/approvals&amp;co/ui/requests/"
                     "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V\">Open in the inbox</a>"))
      << text;
  // A link in the text, never a url button (Telegram refuses those to hosts like localhost).
  for (const auto& row : body.at("reply_markup").at("inline_keyboard").as_array()) {
    for (const auto& button : row.as_array()) EXPECT_FALSE(button.as_object().contains("url"));
  }

  auto without = TelegramChannel::Create(Settings(), nullptr);
  ASSERT_TRUE(without.ok());
  auto [c2, b2] = RenderJson(**without, Row("post", "request.created"), Fixture());
  EXPECT_TRUE(std::string(b2.at("text").as_string()).ends_with("approvals</i>"));
}

TEST_F(TelegramChannelTest, AnUpdateOfAPendingRequestKeepsTheButtons) {
  auto channel = Make();
  auto [call, body] = RenderJson(*channel, Row("update", "decision.recorded"), Fixture(),
                                 R"({"chat_id":-1001234567890,"message_id":42})");
  EXPECT_EQ(body.at("reply_markup").at("inline_keyboard").at(0).as_array().size(), 2u);
}

TEST_F(TelegramChannelTest, AnUpdateWithNothingToEditPostsTheCurrentState) {
  auto channel = Make();
  Request r = Fixture();
  r.status = RequestStatus::kCancelled;
  r.resolved_by = {"ci-bot"};
  auto [call, body] = RenderJson(*channel, Row("update", "request.cancelled"), r);
  EXPECT_TRUE(call.url.ends_with("/sendMessage"));
  EXPECT_FALSE(body.as_object().contains("reply_markup"));
  EXPECT_TRUE(body.at("text").as_string().starts_with("\U0001f6ab <b>Cancelled</b>"));
}

TEST_F(TelegramChannelTest, AReminderIsAReplyToTheMessage) {
  auto channel = Make();
  auto [call, body] = RenderJson(*channel, Row("remind", "request.reminded"), Fixture(),
                                 R"({"chat_id":-1001234567890,"message_id":42})");
  EXPECT_TRUE(call.url.ends_with("/sendMessage"));
  const json::value expected = {
      {"chat_id", -1001234567890},
      {"text",
       "\U0001f514 Reminder: <b>Deploy v2.0</b> is still waiting for a decision (deadline "
       "2026-11-21 10:15 UTC)."},
      {"parse_mode", "HTML"},
      {"link_preview_options", {{"is_disabled", true}}},
      {"reply_parameters", {{"message_id", 42}, {"allow_sending_without_reply", true}}}};
  EXPECT_EQ(body, expected) << json::serialize(body);
  // Once resolved, a late reminder only refreshes the message.
  Request done = Fixture();
  done.status = RequestStatus::kExpired;
  auto [late, late_body] = RenderJson(*channel, Row("remind", "request.reminded"), done,
                                      R"({"chat_id":-1001234567890,"message_id":42})");
  EXPECT_TRUE(late.url.ends_with("/editMessageText"));
}

TEST_F(TelegramChannelTest, ARespondRowAnswersTheCallbackQuery) {
  auto channel = Make();
  const std::string target = TelegramChannel::CallbackTarget("4382bfdwdsb323b2d9");
  EXPECT_EQ(target, "telegram:callback_query:4382bfdwdsb323b2d9");
  auto [refused, refused_body] =
      RenderJson(*channel,
                 Row("respond", "decision.rejected", target,
                     R"({"text":"not authorised: Telegram user 1 is not mapped to a principal"})"),
                 Fixture());
  EXPECT_EQ(refused.url, std::string("http://127.0.0.1:9/bot") + kToken + "/answerCallbackQuery");
  EXPECT_EQ(refused_body, json::parse(R"({"callback_query_id":"4382bfdwdsb323b2d9",
                            "text":"not authorised: Telegram user 1 is not mapped to a principal"})"));

  Request approved = Fixture();
  approved.quorum = 1;
  approved.status = RequestStatus::kApproved;
  approved.resolved_by = {"alice"};
  auto [recorded, recorded_body] = RenderJson(
      *channel, Row("respond", "decision.recorded", target, R"({"choice":"approve"})"), approved);
  EXPECT_EQ(recorded_body.at("text"), "Recorded: Approve. Approved by alice.");
  auto [counted, counted_body] = RenderJson(
      *channel, Row("respond", "decision.recorded", target, R"({"choice":"approve"})"), Fixture());
  EXPECT_EQ(counted_body.at("text"), "Recorded: Approve. 0 of 2 approvals.");

  auto long_text = json::serialize(json::object{{"text", std::string(500, 'x')}});
  auto [cut, cut_body] =
      RenderJson(*channel, Row("respond", "decision.rejected", target, long_text), Fixture());
  EXPECT_EQ(TextLength(std::string(cut_body.at("text").as_string())), TelegramChannel::kMaxAnswer);
  EXPECT_FALSE(
      channel->Render(Row("respond", "decision.rejected", "https://example.com/x"), Fixture(), "")
          .ok());
}

TEST_F(TelegramChannelTest, ARespondRowOfferingTheFormIsAPrivateMessageWithTheLink) {
  auto channel = Make();
  const std::string target = TelegramChannel::CallbackTarget("q1");
  const OutboxRow row =
      Row("respond", "decision.rejected", target,
          R"({"text":"needs a form","form":{"choice":"approve","principal":"alice",)"
          R"("identity":"telegram:1234567"}})");
  auto [call, body] = RenderJson(*channel, row, Fixture());
  EXPECT_EQ(call.url, std::string("http://127.0.0.1:9/bot") + kToken + "/sendMessage");
  EXPECT_EQ(body.at("chat_id"), "1234567") << "the person's private chat, not the group";
  EXPECT_EQ(body.at("parse_mode"), "HTML");
  const auto& button = body.at("reply_markup").at("inline_keyboard").at(0).at(0);
  EXPECT_EQ(button.at("text"), "Open the form");
  const std::string url(button.at("url").as_string());
  ASSERT_EQ(url.rfind("https://cs.example.com/l/", 0), 0u) << url;
  auto claims = signer_.Verify(url.substr(std::string("https://cs.example.com/l/").size()));
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->recipient, "alice");
  EXPECT_EQ(claims->choice, "approve");

  // Decided meanwhile, or no user to write to: the query is answered with the text instead.
  Request approved = Fixture();
  approved.status = RequestStatus::kApproved;
  auto [late, late_body] = RenderJson(*channel, row, approved);
  EXPECT_TRUE(late.url.ends_with("/answerCallbackQuery"));
  EXPECT_EQ(late_body.at("text"), "needs a form");
  const OutboxRow nobody = Row("respond", "decision.rejected", target,
                               R"({"text":"needs a form","form":{"choice":"approve",)"
                               R"("principal":"alice","identity":"slack:U1"}})");
  auto [other, other_body] = RenderJson(*channel, nobody, Fixture());
  EXPECT_TRUE(other.url.ends_with("/answerCallbackQuery"));
}

TEST_F(TelegramChannelTest, InterpretKeepsTheMessageRefAndRetriesWhatTelegramAsksTo) {
  auto channel = Make();
  const auto post = Row("post", "request.created");
  auto sent =
      channel->Interpret(post, Reply(200, R"({"ok":true,"result":{"message_id":42,"date":1795255200,
                          "chat":{"id":-1001234567890,"type":"supergroup"},"text":"x"}})"));
  EXPECT_EQ(sent.kind, DeliveryOutcome::Kind::kDelivered);
  EXPECT_EQ(sent.message_ref, R"({"chat_id":-1001234567890,"message_id":42})");

  auto limited = channel->Interpret(post, Reply(429, R"({"ok":false,"error_code":429,
                          "description":"Too Many Requests: retry after 7",
                          "parameters":{"retry_after":7}})"));
  EXPECT_EQ(limited.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(limited.retry_after, std::chrono::seconds(7));
  EXPECT_NE(limited.error.find("Too Many Requests"), std::string::npos);

  auto header_only = channel->Interpret(post, Reply(429, "", {{"retry-after", "3"}}));
  EXPECT_EQ(header_only.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(header_only.retry_after, std::chrono::seconds(3));

  auto down = channel->Interpret(
      post, Reply(502, R"({"ok":false,"error_code":502,"description":"Bad Gateway"})"));
  EXPECT_EQ(down.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(channel->Interpret(post, Reply(500, "<html>oops</html>")).kind,
            DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(channel->Interpret(post, Reply(0, "")).kind, DeliveryOutcome::Kind::kRetry);

  auto refused = channel->Interpret(
      post,
      Reply(400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})"));
  EXPECT_EQ(refused.kind, DeliveryOutcome::Kind::kFailed);
  EXPECT_EQ(refused.error, "telegram: 400 Bad Request: chat not found");

  const char* not_modified =
      R"({"ok":false,"error_code":400,"description":"Bad Request: message is not modified: )"
      R"(specified new message content and reply markup are exactly the same"})";
  EXPECT_EQ(channel->Interpret(Row("update", "decision.recorded"), Reply(400, not_modified)).kind,
            DeliveryOutcome::Kind::kDelivered);

  auto reminded = channel->Interpret(
      Row("remind", "request.reminded"),
      Reply(200, R"({"ok":true,"result":{"message_id":43,"chat":{"id":-1001234567890}}})"));
  EXPECT_EQ(reminded.kind, DeliveryOutcome::Kind::kDelivered);
  EXPECT_EQ(reminded.message_ref, "") << "a reply must not replace the message later edits";
  EXPECT_EQ(channel
                ->Interpret(Row("respond", "decision.recorded"),
                            Reply(200, R"({"ok":true,"result":true})"))
                .kind,
            DeliveryOutcome::Kind::kDelivered);
}

TEST_F(TelegramChannelTest, AnUpdateWithoutTheSecretTokenIsUnauthorizedAndUnread) {
  auto channel = Make();
  const std::string body = CallbackQuery(ButtonKey::Encode(kId, 0));
  for (const std::string& secret : {std::string(), std::string("wrong"), std::string(kSecret) + "x",
                                    std::string(kSecret).substr(1)}) {
    auto read = channel->ReadUpdate(Update(body, secret), kNow);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::kUnauthorized);
  }
  // Checked before the body is read.
  auto garbage = channel->ReadUpdate(Update("not json", "wrong"), kNow);
  EXPECT_EQ(garbage.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(channel->ReadUpdate(Update("not json"), kNow).error().code, ErrorCode::kMalformed);
}

TEST_F(TelegramChannelTest, ACallbackQueryOfACountersignButtonIsAPressByTheTelegramUser) {
  auto channel = Make();
  auto read = channel->ReadUpdate(Update(CallbackQuery(ButtonKey::Encode(kId, 1))), kNow);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->id, "4382bfdwdsb323b2d9");
  EXPECT_TRUE(read->in_chat);
  ASSERT_TRUE(read->press);
  EXPECT_EQ(read->press->identity, "telegram:123456789");
  EXPECT_EQ(read->press->display_name, "@alice_ops");
  EXPECT_EQ(read->press->request_id, kId);
  EXPECT_EQ(read->press->choice_index, 1u);
  EXPECT_EQ(read->press->choice, "");
  EXPECT_EQ(read->press->response_url, "telegram:callback_query:4382bfdwdsb323b2d9");
  auto parsed = channel->ParseCallback(Update(CallbackQuery(ButtonKey::Encode(kId, 1))), kNow);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->identity, "telegram:123456789");
}

TEST_F(TelegramChannelTest, AReplayedUpdateIsRefusedEvenWithTheSecretToken) {
  auto channel = Make();
  const InboundCallback update = Update(CallbackQuery(ButtonKey::Encode(kId, 1)));
  ASSERT_TRUE(channel->ParseCallback(update, kNow).ok());
  auto replayed = channel->ParseCallback(update, kNow + 1h);
  ASSERT_FALSE(replayed.ok());
  EXPECT_EQ(replayed.error().code, ErrorCode::kUnauthorized);
  EXPECT_TRUE(channel->ParseCallback(Update(CallbackQuery(ButtonKey::Encode(kId, 1))), kNow).ok())
      << "a new update of the same button is a new press";
}

TEST_F(TelegramChannelTest, OtherUpdatesChatsAndCallbackDataAreToldApart) {
  auto channel = Make();
  auto message = channel->ReadUpdate(
      Update(R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"text":"hi"}})"), kNow);
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().code, ErrorCode::kInvalid);

  auto foreign = channel->ReadUpdate(Update(CallbackQuery("menu:settings")), kNow);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->id, "4382bfdwdsb323b2d9");
  EXPECT_FALSE(foreign->press);
  EXPECT_EQ(channel->ParseCallback(Update(CallbackQuery("menu:settings")), kNow).error().code,
            ErrorCode::kInvalid);

  const auto elsewhere = [] { return CallbackQuery(ButtonKey::Encode(kId, 0), -100999); };
  auto other_chat = channel->ReadUpdate(Update(elsewhere()), kNow);
  ASSERT_TRUE(other_chat.ok());
  EXPECT_FALSE(other_chat->in_chat);
  EXPECT_EQ(channel->ParseCallback(Update(elsewhere()), kNow).error().code, ErrorCode::kNotFound);

  auto settings = Settings();
  settings.values["chat_id"] = "@Ops_Approvals";
  auto named = Make(settings);
  auto by_name = named->ReadUpdate(
      Update(CallbackQuery(ButtonKey::Encode(kId, 0), -1007, "ops_approvals")), kNow);
  ASSERT_TRUE(by_name.ok());
  EXPECT_TRUE(by_name->in_chat);

  auto no_user = channel->ReadUpdate(
      Update(R"({"update_id":2,"callback_query":{"id":"1","data":"x"}})"), kNow);
  EXPECT_EQ(no_user.error().code, ErrorCode::kMalformed);
}

TEST_F(TelegramChannelTest, WebhookAnswerAndSetWebhookAreTheBotApiCalls) {
  EXPECT_EQ(json::value(TelegramChannel::WebhookAnswer("77", "this request no longer exists")),
            json::parse(R"({"method":"answerCallbackQuery","callback_query_id":"77",
                            "text":"this request no longer exists"})"));
  EXPECT_EQ(json::value(TelegramChannel::WebhookAnswer("77", "")),
            json::parse(R"({"method":"answerCallbackQuery","callback_query_id":"77"})"));
  auto channel = Make();
  OutboundCall call = channel->SetWebhookCall("https://cs.example.com/hooks/telegram");
  EXPECT_EQ(call.url, std::string("http://127.0.0.1:9/bot") + kToken + "/setWebhook");
  EXPECT_EQ(json::parse(call.body), json::parse(R"({"url":"https://cs.example.com/hooks/telegram",
                            "secret_token":"s3cr3t_T0ken-for-the-webhook",
                            "allowed_updates":["callback_query"]})"));
}

TEST_F(TelegramChannelTest, AnUpdateNamingAKeyTwiceIsRefused) {
  auto channel = Make();
  const std::string body = CallbackQuery(ButtonKey::Encode(kId, 1));
  auto read = channel->ReadUpdate(Update("{\"update_id\":1," + body.substr(1)), kNow);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kMalformed);
  EXPECT_NE(read.error().message.find("\"update_id\" twice"), std::string::npos);
  // Refused before its update_id was remembered: the real update still goes through.
  EXPECT_TRUE(channel->ReadUpdate(Update(body), kNow).ok());
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(TelegramChannelTest, ACustomLabelSaysWhatItsButtonDoes) {
  auto channel = Make();
  Request r = Fixture();
  r.choices = {{"ship", "Ship it", "danger", Outcome::kApproved},
               {"hold", "Hold", "primary", Outcome::kDenied}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const auto& row = body.at("reply_markup").at("inline_keyboard").at(0).as_array();
  ASSERT_EQ(row.size(), 2u);
  EXPECT_EQ(row[0].at("text"), "Ship it \u2014 approves");
  EXPECT_EQ(row[1].at("text"), "Hold \u2014 denies");
}

TEST_F(TelegramChannelTest, GrantOptionsAddARowEachThatApprovesWithTheScopeInTheKey) {
  auto channel = Make();
  Request r = Fixture();
  r.quorum = 1;
  r.session = "sess-1";
  r.grant_options = {{"session", 1h}, {"requester", 30 * 24h}};
  auto [call, body] = RenderJson(*channel, Row("post", "request.created"), r);
  const json::array& keyboard = body.at("reply_markup").at("inline_keyboard").as_array();
  ASSERT_EQ(keyboard.size(), 3u);
  EXPECT_EQ(keyboard[1], json::parse(R"j([{"text":"Approve for this session (1 h)",
      "callback_data":"cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0:s"}])j"));
  EXPECT_EQ(keyboard[2].at(0).at("text"), "Always approve deploy_production for ci-bot (30 days)");
  EXPECT_EQ(keyboard[2].at(0).at("callback_data"), "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0:r");
  for (const auto& row : keyboard) {
    for (const auto& button : row.as_array()) {
      EXPECT_LE(button.at("callback_data").as_string().size(), TelegramChannel::kMaxCallbackData);
      EXPECT_LE(TextLength(button.at("text").as_string()), TelegramChannel::kMaxButtonText);
    }
  }
  // A high-risk request offers no standing permission.
  r.risk = "high";
  auto [high_call, high] = RenderJson(*channel, Row("post", "request.created"), r);
  EXPECT_EQ(high.at("reply_markup").at("inline_keyboard").as_array().size(), 1u);
}

TEST_F(TelegramChannelTest, APressOfAGrantButtonNamesTheScopeAndTheEditSaysWhatWasGranted) {
  auto channel = Make();
  auto press =
      channel->ParseCallback(Update(CallbackQuery(ButtonKey::Encode(kId, 0, "session"))), kNow);
  ASSERT_TRUE(press.ok()) << press.error().message;
  EXPECT_EQ(press->choice_index, 0u);
  EXPECT_EQ(press->grant_scope, "session");

  Request r = Fixture();
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  auto [call, body] = RenderJson(*channel,
                                 Row("update", "request.resolved", "",
                                     R"({"granted":{"scope":"session","ttl_seconds":3600}})"),
                                 r, R"({"chat_id":-1001234567890,"message_id":42})");
  EXPECT_TRUE(std::string(body.at("text").as_string())
                  .starts_with("\u2705 <b>Approved by alice \u2014 and approved for this session "
                               "for 1 h</b>\n"))
      << body.at("text");
  auto [answer_call, answer] =
      RenderJson(*channel,
                 Row("respond", "decision.recorded", "telegram:callback_query:77",
                     R"({"choice":"approve","granted":{"scope":"session","ttl_seconds":3600}})"),
                 r);
  EXPECT_EQ(answer.at("text"),
            "Recorded: Approve. Approved by alice \u2014 and approved for this session for 1 h.");
}

}  // namespace
}  // namespace countersign
