// SlackConversationChat: the alert message's blocks, the thread's texts, and the Web API calls
// it makes, against a loopback HTTP recorder standing in for Slack.
#include "notify/slack_conversation_chat.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "notify/curl_transport.hpp"
#include "testing/http_recorder.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using testing::HttpRecorder;

constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr char kFeedTs[] = "1795255200.000100";

Request Pending() {
  Request r;
  r.id = "req_1";
  r.kind = Kind::kConversation;
  r.action = "alert.impossible_travel";
  r.title = "Impossible travel";
  r.requester = "siem";
  return r;
}

Request Resolved(RequestStatus status) {
  Request r = Pending();
  r.status = status;
  return r;
}

Conversation Posted() {
  Conversation c;
  c.request_id = "req_1";
  c.subject = "slack:U123";
  c.channel = "slack-ops";
  c.alert.name = "Impossible travel";
  c.alert.description = "Sign-ins from Lisbon and Oslo.";
  c.alert.properties = {{"ip", "203.0.113.9"}, {"count", 3}, {"vpn", false}};
  c.question = "Was the user aware of this activity?";
  c.parent_version = 1;
  return c;
}

Conversation Chatting() {
  Conversation c = Posted();
  c.phase = ConversationPhase::kChatting;
  c.started_by = "alice";
  c.feed_channel = "C0FEED";
  c.feed_ts = kFeedTs;
  c.dm_channel = "D0DM";
  return c;
}

ConversationMessage Said(MessageRole role, std::string text, std::string author = "") {
  ConversationMessage m;
  m.request_id = "req_1";
  m.seq = 1;
  m.role = role;
  m.author = std::move(author);
  m.text = std::move(text);
  return m;
}

std::vector<std::string> ButtonChoices(const json::array& blocks) {
  std::vector<std::string> out;
  for (const auto& block : blocks) {
    if (block.at("type") != "actions") continue;
    for (const auto& button : block.at("elements").as_array()) {
      out.emplace_back(button.at("action_id").as_string());
    }
  }
  return out;
}

// The text of the status section (the third block), or "" when there is none.
std::string StatusText(const json::array& blocks) {
  if (blocks.size() < 3 || blocks[2].at("type") != "section") return "";
  return std::string(blocks[2].at("text").at("text").as_string());
}

class SlackConversationChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    channel_ = MakeChannel(recorder_.Url("/api/"));
    ASSERT_NE(channel_, nullptr);
    chat_ = std::make_unique<SlackConversationChat>(slack(), transport_);
  }

  std::unique_ptr<Channel> MakeChannel(const std::string& api_base) {
    ChannelSettings settings{"slack-ops",
                             "slack",
                             {{"bot_token", "xoxb-test"},
                              {"channel", "C0FEED"},
                              {"signing_secret", kSecret},
                              {"api_base", api_base}},
                             "countersign.toml:10",
                             {}};
    auto made = SlackChannel::Create(std::move(settings), links_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  const SlackChannel& slack() const { return static_cast<const SlackChannel&>(*channel_); }

  void Reply(std::string body, int status = 200, std::map<std::string, std::string> headers = {}) {
    recorder_.Script({status, std::move(body), std::move(headers)});
  }

  // What the recorder received as call `i`: its Web API method and its JSON body.
  std::pair<std::string, json::value> Received(size_t i) {
    const auto received = recorder_.received();
    EXPECT_LT(i, received.size());
    if (i >= received.size()) return {};
    EXPECT_EQ(received[i].headers.at("authorization"), "Bearer xoxb-test");
    const std::string& target = received[i].target;
    EXPECT_EQ(target.rfind("/api/", 0), 0u) << target;
    return {target.substr(5), json::parse(received[i].body)};
  }

  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
  HttpRecorder recorder_;
  CurlTransport transport_{OutboundPolicy::Make({{"127.0.0.1/32"}, false}, "test").value()};
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<SlackConversationChat> chat_;
};

TEST_F(SlackConversationChatTest, APostedAlertIsExactlyThisBlockKitMessage) {
  const json::array blocks = chat_->AlertBlocks(Pending(), Posted(), true);
  const json::value expected = json::parse(R"json([
    {"type": "section", "text": {"type": "mrkdwn",
      "text": ":rotating_light: *Incident:* Impossible travel with user <@U123>"}},
    {"type": "context", "elements": [{"type": "mrkdwn",
      "text": "Sign-ins from Lisbon and Oslo.\nQuestion: Was the user aware of this activity? \u00b7 Details in the thread."}]},
    {"type": "actions", "block_id": "countersign_conversation", "elements": [
      {"type": "button", "action_id": "conv_start",
       "text": {"type": "plain_text", "text": "Start chat"},
       "value": "{\"channel\":\"slack-ops\",\"request\":\"req_1\",\"choice\":\"conv_start\"}",
       "style": "primary"},
      {"type": "button", "action_id": "conv_dismiss",
       "text": {"type": "plain_text", "text": "Do nothing"},
       "value": "{\"channel\":\"slack-ops\",\"request\":\"req_1\",\"choice\":\"conv_dismiss\"}",
       "style": "danger"}]}
  ])json");
  EXPECT_EQ(json::value(blocks), expected) << json::serialize(blocks);
}

TEST_F(SlackConversationChatTest, EveryButtonValueNamesTheChannelTheRequestAndItsChoice) {
  Conversation c = Chatting();
  const json::array blocks = chat_->AlertBlocks(Pending(), c, false);
  for (const auto& button : blocks.back().at("elements").as_array()) {
    const json::value value = json::parse(button.at("value").as_string());
    EXPECT_EQ(value, (json::object{{"channel", "slack-ops"},
                                   {"request", "req_1"},
                                   {"choice", button.at("action_id")}}));
  }
}

TEST_F(SlackConversationChatTest, WithAModelAChatOnlyOffersEndChat) {
  const json::array blocks = chat_->AlertBlocks(Pending(), Chatting(), true);
  EXPECT_EQ(ButtonChoices(blocks), std::vector<std::string>{"conv_end"});
  EXPECT_EQ(StatusText(blocks), "*alice* started a chat.");
  EXPECT_EQ(blocks.back().at("elements").as_array()[0].at("style"), "danger");
}

TEST_F(SlackConversationChatTest, WithoutAModelTheAnalystsSettleItWithTheirButtons) {
  const json::array blocks = chat_->AlertBlocks(Pending(), Chatting(), false);
  EXPECT_EQ(ButtonChoices(blocks),
            (std::vector<std::string>{"conv_confirmed", "conv_denied", "conv_end"}));
  const json::array& buttons = blocks.back().at("elements").as_array();
  EXPECT_EQ(buttons[0].at("text").at("text"), "User confirmed");
  EXPECT_EQ(buttons[0].at("style"), "primary");
  EXPECT_EQ(buttons[1].at("text").at("text"), "User denied");
  EXPECT_FALSE(buttons[1].as_object().contains("style"));
  EXPECT_EQ(buttons[2].at("text").at("text"), "End chat");
}

TEST_F(SlackConversationChatTest, AnUnsureModelHandsTheButtonsToTheAnalysts) {
  Conversation c = Chatting();
  c.needs_analyst = true;
  const json::array blocks = chat_->AlertBlocks(Pending(), c, true);
  EXPECT_EQ(ButtonChoices(blocks),
            (std::vector<std::string>{"conv_confirmed", "conv_denied", "conv_end"}));
  EXPECT_EQ(StatusText(blocks),
            "*alice* started a chat.\n:raising_hand: Waiting for an analyst to settle it.");
}

TEST_F(SlackConversationChatTest, AClosingChatHasNoButtons) {
  Conversation c = Chatting();
  c.phase = ConversationPhase::kClosing;
  c.closed_by = "judge";
  const json::array blocks = chat_->AlertBlocks(Pending(), c, true);
  EXPECT_TRUE(ButtonChoices(blocks).empty());
  EXPECT_EQ(blocks.size(), 3u);
  EXPECT_EQ(StatusText(blocks),
            "*alice* started a chat.\n:hourglass_flowing_sand: The model closed the chat; writing "
            "the summary.");
}

TEST_F(SlackConversationChatTest, AClosedAlertSaysHowItEnded) {
  Conversation c = Chatting();
  c.phase = ConversationPhase::kClosed;
  c.closed_by = "judge";
  c.result.has_answered = true;
  c.result.is_aware = true;
  json::array blocks = chat_->AlertBlocks(Resolved(RequestStatus::kAnswered), c, true);
  EXPECT_TRUE(ButtonChoices(blocks).empty());
  EXPECT_EQ(StatusText(blocks),
            "*alice* started a chat.\n:white_check_mark: The user was aware of it (judged by the "
            "model). The chat has ended.");

  c.closed_by = "bob";
  c.result.is_aware = false;
  blocks = chat_->AlertBlocks(Resolved(RequestStatus::kAnswered), c, true);
  EXPECT_EQ(
      StatusText(blocks),
      "*alice* started a chat.\n:white_check_mark: The user was *not* aware of it (settled by "
      "*bob*). The chat has ended.");

  c.closed_by = "alice";
  blocks = chat_->AlertBlocks(Resolved(RequestStatus::kEnded), c, true);
  EXPECT_EQ(StatusText(blocks), "*alice* started a chat.\n:stop_button: *alice* ended the chat.");

  Conversation dismissed = Posted();
  dismissed.phase = ConversationPhase::kClosed;
  dismissed.closed_by = "slack:UA1";
  blocks = chat_->AlertBlocks(Resolved(RequestStatus::kDismissed), dismissed, true);
  EXPECT_TRUE(ButtonChoices(blocks).empty());
  EXPECT_EQ(StatusText(blocks), ":white_circle: <@UA1> decided that no action was necessary.");

  blocks = chat_->AlertBlocks(Resolved(RequestStatus::kExpired), Chatting(), true);
  EXPECT_TRUE(ButtonChoices(blocks).empty());
  EXPECT_EQ(StatusText(blocks),
            "*alice* started a chat.\n:hourglass: Expired: no answer before the deadline.");

  blocks = chat_->AlertBlocks(Resolved(RequestStatus::kCancelled), Posted(), true);
  EXPECT_EQ(StatusText(blocks), ":no_entry_sign: cancelled.");
}

TEST_F(SlackConversationChatTest, TheAlertsOwnTextIsEscaped) {
  Conversation c = Posted();
  c.alert.name = "<!channel> & co";
  c.alert.description = "";
  c.question = "a > b?";
  const json::array blocks = chat_->AlertBlocks(Pending(), c, true);
  EXPECT_EQ(blocks[0].at("text").at("text"),
            ":rotating_light: *Incident:* &lt;!channel&gt; &amp; co with user <@U123>");
  EXPECT_EQ(blocks[1].at("elements").as_array()[0].at("text"),
            "Question: a &gt; b? \u00b7 Details in the thread.");
}

TEST(SlackConversationChatTextTest, MirrorTextQuotesEachLineAndNamesWhoSaidIt) {
  const Conversation c = Chatting();
  EXPECT_EQ(SlackConversationChat::MirrorText(
                c, Said(MessageRole::kSubject, "yes it was me\nI was in <Oslo> & Lisbon")),
            "Received from <@U123>:\n>yes it was me\n>I was in &lt;Oslo&gt; &amp; Lisbon");
  EXPECT_EQ(SlackConversationChat::MirrorText(c, Said(MessageRole::kBot, "hello", "countersign")),
            "Sent to <@U123>:\n>hello");
  EXPECT_EQ(
      SlackConversationChat::MirrorText(c, Said(MessageRole::kAnalyst, "which city?", "alice")),
      "*alice* to <@U123>:\n>which city?");
  EXPECT_EQ(SlackConversationChat::MirrorText(
                c, Said(MessageRole::kNote, "Summary: a < b\nsecond line", "countersign")),
            "Summary: a &lt; b\nsecond line");
}

TEST(SlackConversationChatTextTest, ThePropertiesNoteIsMirroredAsPlainEscapedText) {
  // The properties are the thread's first note (engine/conversation_rules.hpp, PlanPosted);
  // the alert's sender chose their keys and values, so they are escaped like any text.
  const ConversationMessage note =
      Said(MessageRole::kNote,
           "The value of <!channel> for this alert is a&b.\nThe value of ip for this alert is "
           "203.0.113.9.",
           "countersign");
  EXPECT_EQ(SlackConversationChat::MirrorText(Chatting(), note),
            "The value of &lt;!channel&gt; for this alert is a&amp;b.\nThe value of ip for this "
            "alert is 203.0.113.9.");
}

TEST(SlackConversationChatTextTest, AQuotedLineCannotEndTheQuote) {
  const Conversation c = Chatting();
  // A subject who writes "> " or a blank line stays inside the quote.
  EXPECT_EQ(SlackConversationChat::MirrorText(c, Said(MessageRole::kSubject, "a\n\n> b")),
            "Received from <@U123>:\n>a\n>\n>&gt; b");
}

TEST(SlackConversationChatTextTest, MentionLinksSlackUsersAndEscapesNames) {
  EXPECT_EQ(SlackConversationChat::Mention("slack:U123"), "<@U123>");
  EXPECT_EQ(SlackConversationChat::Mention("judge"), "The model");
  EXPECT_EQ(SlackConversationChat::Mention("alice"), "*alice*");
  EXPECT_EQ(SlackConversationChat::Mention("a<b>&c"), "*a&lt;b&gt;&amp;c*");
  EXPECT_EQ(SlackConversationChat::Mention("slack:U1><!here"), "<@U1&gt;&lt;!here>");
}

TEST_F(SlackConversationChatTest, PostAlertPostsOnlyTheAlertMessage) {
  // The properties reach the thread as the first note, mirrored like every message.
  Reply(R"({"ok": true, "channel": "C0FEED", "ts": "1795255200.000100"})");
  auto ref = chat_->PostAlert(Pending(), Posted(), true);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->channel, "C0FEED");
  EXPECT_EQ(ref->ts, kFeedTs);
  ASSERT_EQ(recorder_.received().size(), 1u);

  auto [method, body] = Received(0);
  EXPECT_EQ(method, "chat.postMessage");
  EXPECT_EQ(body, (json::object{{"channel", "C0FEED"},
                                {"text", "Incident: Impossible travel"},
                                {"blocks", chat_->AlertBlocks(Pending(), Posted(), true)},
                                {"unfurl_links", false}}))
      << json::serialize(body);
  // Nothing of the properties is in the alert message itself.
  EXPECT_EQ(json::serialize(body).find("203.0.113.9"), std::string::npos);
}

TEST_F(SlackConversationChatTest, AFailedPostIsOneCallAndNothingIsPostedInAThread) {
  Reply(R"({"ok": false, "error": "channel_not_found"})");
  auto ref = chat_->PostAlert(Pending(), Posted(), true);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(recorder_.received().size(), 1u);
}

TEST_F(SlackConversationChatTest, APostWithoutChannelAndTsIsUnavailable) {
  Reply(R"({"ok": true})");
  auto ref = chat_->PostAlert(Pending(), Posted(), true);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(recorder_.received().size(), 1u);
}

TEST_F(SlackConversationChatTest, UpdateAlertRewritesTheFeedMessage) {
  Reply(R"({"ok": true})");
  ASSERT_TRUE(chat_->UpdateAlert(Pending(), Chatting(), true).ok());
  auto [method, body] = Received(0);
  EXPECT_EQ(method, "chat.update");
  EXPECT_EQ(body, (json::object{{"channel", "C0FEED"},
                                {"ts", kFeedTs},
                                {"text", "Incident: Impossible travel"},
                                {"blocks", chat_->AlertBlocks(Pending(), Chatting(), true)}}));
}

TEST_F(SlackConversationChatTest, TheFirstMessageOpensTheDirectMessageAndGreetsByName) {
  Conversation c = Chatting();
  c.dm_channel.clear();
  Reply(R"({"ok": true, "channel": {"id": "D0NEW"}})");
  Reply(R"({"ok": true, "channel": "D0NEW", "ts": "1795255300.000100"})");
  auto dm = chat_->SendToSubject(c, Said(MessageRole::kBot, "we noticed a <sign-in>."));
  ASSERT_TRUE(dm.ok()) << dm.error().message;
  EXPECT_EQ(dm.value(), "D0NEW");
  ASSERT_EQ(recorder_.received().size(), 2u);
  auto [open_method, open_body] = Received(0);
  EXPECT_EQ(open_method, "conversations.open");
  EXPECT_EQ(open_body, (json::object{{"users", "U123"}}));
  auto [method, body] = Received(1);
  EXPECT_EQ(method, "chat.postMessage");
  EXPECT_EQ(body, (json::object{{"channel", "D0NEW"},
                                {"text", "Hi <@U123>, we noticed a &lt;sign-in&gt;."},
                                {"unfurl_links", false}}));
}

TEST_F(SlackConversationChatTest, LaterMessagesGoToTheOpenDirectMessageWithoutAGreeting) {
  Reply(R"({"ok": true})");
  Reply(R"({"ok": true})");
  auto nudge = chat_->SendToSubject(Chatting(), Said(MessageRole::kBot, "Sorry to ask again"));
  ASSERT_TRUE(nudge.ok()) << nudge.error().message;
  EXPECT_EQ(nudge.value(), "D0DM");
  auto relayed =
      chat_->SendToSubject(Chatting(), Said(MessageRole::kAnalyst, "Which city?", "alice"));
  ASSERT_TRUE(relayed.ok()) << relayed.error().message;
  ASSERT_EQ(recorder_.received().size(), 2u);
  EXPECT_EQ(Received(0).second.at("text"), "Sorry to ask again");
  EXPECT_EQ(Received(0).second.at("channel"), "D0DM");
  EXPECT_EQ(Received(1).second.at("text"), "_From the security team:_ Which city?");
}

TEST_F(SlackConversationChatTest, AnOpenWithoutAnIdIsUnavailable) {
  Conversation c = Chatting();
  c.dm_channel.clear();
  Reply(R"({"ok": true, "channel": {}})");
  auto dm = chat_->SendToSubject(c, Said(MessageRole::kBot, "hello"));
  ASSERT_FALSE(dm.ok());
  EXPECT_EQ(dm.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(recorder_.received().size(), 1u);
}

TEST_F(SlackConversationChatTest, MirrorPostsIntoTheAlertsThread) {
  Reply(R"({"ok": true})");
  const ConversationMessage m = Said(MessageRole::kSubject, "yes");
  ASSERT_TRUE(chat_->Mirror(Chatting(), m).ok());
  auto [method, body] = Received(0);
  EXPECT_EQ(method, "chat.postMessage");
  EXPECT_EQ(body, (json::object{{"channel", "C0FEED"},
                                {"thread_ts", kFeedTs},
                                {"text", SlackConversationChat::MirrorText(Chatting(), m)},
                                {"unfurl_links", false}}));
}

TEST_F(SlackConversationChatTest, HttpRateLimitingCarriesRetryAfter) {
  Reply("", 429, {{"Retry-After", "7"}});
  Status mirrored = chat_->Mirror(Chatting(), Said(MessageRole::kSubject, "yes"));
  ASSERT_FALSE(mirrored.ok());
  EXPECT_EQ(mirrored.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(mirrored.error().retry_after_seconds, 7);

  Reply("", 429, {{"Retry-After", "soon"}});
  mirrored = chat_->Mirror(Chatting(), Said(MessageRole::kSubject, "yes"));
  ASSERT_FALSE(mirrored.ok());
  EXPECT_EQ(mirrored.error().retry_after_seconds, 1);
}

TEST_F(SlackConversationChatTest, SlackErrorsMapToRetryableOrNot) {
  const auto code = [&](std::string body, int status = 200) {
    Reply(std::move(body), status);
    Status mirrored = chat_->Mirror(Chatting(), Said(MessageRole::kSubject, "yes"));
    EXPECT_FALSE(mirrored.ok());
    return mirrored.ok() ? std::string("ok") : ErrorCodeName(mirrored.error().code);
  };
  EXPECT_EQ(code(R"({"ok": false, "error": "ratelimited"})"), "rate_limited");
  EXPECT_EQ(code(R"({"ok": false, "error": "internal_error"})"), "unavailable");
  EXPECT_EQ(code(R"({"ok": false, "error": "fatal_error"})"), "unavailable");
  EXPECT_EQ(code(R"({"ok": false, "error": "service_unavailable"})"), "unavailable");
  EXPECT_EQ(code(R"({"ok": false, "error": "request_timeout"})"), "unavailable");
  EXPECT_EQ(code(R"({"ok": false, "error": "channel_not_found"})"), "invalid");
  EXPECT_EQ(code(R"({"ok": false, "error": "invalid_auth"})"), "invalid");
  EXPECT_EQ(code(R"({"ok": false})"), "invalid");
  EXPECT_EQ(code("upstream error", 503), "unavailable");
  EXPECT_EQ(code("<html>not json</html>"), "unavailable");
}

TEST_F(SlackConversationChatTest, ASlackRefusalNamesTheMethodAndTheError) {
  Reply(R"({"ok": false, "error": "channel_not_found"})");
  Status mirrored = chat_->Mirror(Chatting(), Said(MessageRole::kSubject, "yes"));
  ASSERT_FALSE(mirrored.ok());
  EXPECT_EQ(mirrored.error().message, "Slack chat.postMessage refused: channel_not_found");
}

TEST_F(SlackConversationChatTest, ATransportFailureIsUnavailable) {
  auto unreachable = MakeChannel("http://127.0.0.1:9/api");  // discard: nothing listens
  ASSERT_NE(unreachable, nullptr);
  SlackConversationChat chat(static_cast<const SlackChannel&>(*unreachable), transport_);
  auto ref = chat.PostAlert(Pending(), Posted(), true);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(ref.error().message.rfind("Slack chat.postMessage: ", 0), 0u) << ref.error().message;
}

TEST_F(SlackConversationChatTest, TheChatIsNamedAfterItsChannel) {
  EXPECT_EQ(chat_->name(), "slack-ops");
  EXPECT_EQ(slack().feed_channel(), "C0FEED");
}

}  // namespace
}  // namespace countersign
