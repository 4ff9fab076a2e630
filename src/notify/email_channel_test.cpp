// The email channel: its settings, whom it mails, the message each recipient gets (links
// bound to them, threading headers, no header injection), and how SMTP answers are read.
#include "notify/email_channel.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "notify/curl_transport.hpp"
#include "testing/mail_reader.hpp"

namespace countersign {
namespace {

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
  r.approvers = {"alice", "bob", "carol"};
  r.quorum = 2;
  r.policy = "prod-deploys";
  r.created_at = kNow;
  r.deadline_at = kNow + 15min;
  return r;
}

ChannelSettings Settings() {
  return {"email-ops",
          "email",
          {{"smtp_url", "smtp://mail.example.com:587"},
           {"username", "countersign"},
           {"password", "hunter2"},
           {"from", "Countersign <approvals@example.com>"},
           {"to", "ops@example.com, oncall@example.com"},
           {"addresses.alice", "alice@example.com"},
           {"addresses.bob", "Bob@Example.com"},
           {"allow_domains", "partner.example.org"}},
          "countersign.toml:40",
          {}};
}

OutboxRow Row(std::string kind, std::string event, std::string target, int64_t seq = 7) {
  OutboxRow row;
  row.id = 1;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.destination = "email-ops";
  row.kind = std::move(kind);
  row.event = std::move(event);
  row.event_seq = seq;
  row.target = std::move(target);
  row.created_at = kNow;
  return row;
}

class EmailChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmailChannel> Make(ChannelSettings settings = Settings()) {
    auto made = EmailChannel::Create(std::move(settings), links_);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  std::string CreateError(ChannelSettings settings) {
    auto made = EmailChannel::Create(std::move(settings), links_);
    return made.ok() ? std::string("ok") : made.error().message;
  }

  testing::ReadMail Compose(const EmailChannel& channel, const OutboxRow& row, const Request& r) {
    auto message = channel.Compose(row, r);
    EXPECT_TRUE(message.ok()) << message.error().message;
    return testing::ReadMailMessage(message.ok() ? message.value() : "");
  }

  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
};

TEST_F(EmailChannelTest, SettingsAreCheckedAndErrorsNameTheKey) {
  EXPECT_EQ(CreateError(Settings()), "ok");
  auto without = [](std::string key) {
    auto s = Settings();
    s.values.erase(key);
    return s;
  };
  auto with = [](std::string key, std::string value) {
    auto s = Settings();
    s.values[key] = std::move(value);
    return s;
  };
  EXPECT_NE(CreateError(without("smtp_url")).find("countersign.toml:40"), std::string::npos);
  EXPECT_NE(CreateError(without("smtp_url")).find("smtp_url"), std::string::npos);
  EXPECT_NE(CreateError(without("from")).find("from"), std::string::npos);
  EXPECT_EQ(CreateError(without("to")), "ok");
  EXPECT_NE(CreateError(with("smtp_url", "https://mail.example.com")).find("smtp_url"),
            std::string::npos);
  EXPECT_NE(
      CreateError(with("from", "Countersign <approvals@example.com>\r\nBcc: x@y.z")).find("from"),
      std::string::npos);
  EXPECT_NE(
      CreateError(with("to", "ops@example.com, not an address")).find("to has 'not an address'"),
      std::string::npos);
  EXPECT_NE(CreateError(with("addresses.carol", "alice@EXAMPLE.com")).find("to both"),
            std::string::npos);
  EXPECT_NE(CreateError(with("addresses.carol", "carol")).find("addresses.carol"),
            std::string::npos);
  EXPECT_NE(CreateError(with("starttls", "maybe")).find("starttls"), std::string::npos);
  EXPECT_NE(CreateError(with("bot_token", "x")).find("'bot_token'"), std::string::npos);
  EXPECT_NE(CreateError(without("username")).find("username"), std::string::npos);
  EXPECT_NE(CreateError(with("ca_file", "/nonexistent/ca.pem")).find("ca_file"), std::string::npos);
}

TEST_F(EmailChannelTest, StarttlsIsRequiredUnlessTheRelayIsOnLoopback) {
  auto channel = Make();
  EXPECT_TRUE(channel->smtp().require_tls);
  auto settings = Settings();
  settings.values["starttls"] = "off";
  const std::string error = CreateError(settings);
  EXPECT_NE(error.find("only allowed for a relay on loopback"), std::string::npos) << error;
  EXPECT_NE(error.find("mail.example.com"), std::string::npos) << error;
  for (const char* url : {"smtp://127.0.0.1:2525", "smtp://localhost", "smtp://[::1]:25"}) {
    settings.values["smtp_url"] = url;
    settings.values["starttls"] = "off";
    auto local = Make(settings);
    ASSERT_TRUE(local) << url;
    EXPECT_FALSE(local->smtp().require_tls);
  }
  settings.values["smtp_url"] = "smtps://127.0.0.1:465";
  settings.values["starttls"] = "off";
  EXPECT_NE(CreateError(settings).find("smtps://"), std::string::npos);
}

TEST_F(EmailChannelTest, AskingEventsArePostsAndClosingEventsAreFollowUps) {
  auto channel = Make();
  using V = std::vector<std::string>;
  for (const char* event : {"request.created", "request.escalated", "request.reminded"}) {
    EXPECT_EQ(channel->KindsFor(event), V{"post"}) << event;
  }
  for (const char* event : {"request.resolved", "request.expired", "request.cancelled"}) {
    EXPECT_EQ(channel->KindsFor(event), V{"update"}) << event;
  }
  EXPECT_EQ(channel->KindsFor("decision.recorded"), V{});
}

TEST_F(EmailChannelTest, ApproversWithAnAddressAndTheToListGetOneRowEach) {
  auto channel = Make();
  using V = std::vector<std::string>;
  // carol has no address; alice is named twice; bob's address differs only in case from a
  // `to` entry would be deduplicated too.
  EXPECT_EQ(channel->TargetsFor(Fixture(), {"alice", "carol", "bob", "alice"}, ""),
            (V{"alice@example.com", "Bob@Example.com", "ops@example.com", "oncall@example.com"}));
  EXPECT_EQ(channel->TargetsFor(Fixture(), {}, ""), (V{"ops@example.com", "oncall@example.com"}));
  // A request that names "email:ADDRESS" mails that address only.
  EXPECT_EQ(channel->TargetsFor(Fixture(), {"alice"}, "someone@partner.example.org"),
            (V{"someone@partner.example.org"}));
}

TEST_F(EmailChannelTest, LinksDecideAsTheAddressOwnerTheChannelOrNobody) {
  auto channel = Make();
  EXPECT_EQ(channel->Decider("alice@example.com"), "alice");
  EXPECT_EQ(channel->Decider("ALICE@example.com"), "alice");
  EXPECT_EQ(channel->Decider("bob@example.com"), "bob");
  EXPECT_EQ(channel->Decider("ops@example.com"), "channel:email-ops");
  EXPECT_EQ(channel->Decider("anyone@partner.example.org"), "");
  EXPECT_EQ(channel->Decider("anyone@example.net"), std::nullopt);
  EXPECT_EQ(channel->Decider("alice@example.com\r\nBcc: evil@example.net"), std::nullopt);
  auto settings = Settings();
  settings.values["principal"] = "ops-room";
  EXPECT_EQ(Make(settings)->Decider("oncall@example.com"), "ops-room");
}

TEST_F(EmailChannelTest, TheFirstMessageCarriesOneLinkPerChoiceBoundToItsRecipient) {
  auto channel = Make();
  const Request r = Fixture();
  auto mail = Compose(*channel, Row("post", "request.created", "alice@example.com"), r);

  EXPECT_EQ(mail.Header("From"), "\"Countersign\" <approvals@example.com>");
  EXPECT_EQ(mail.Header("To"), "alice@example.com");
  EXPECT_EQ(mail.Header("Subject"), "Approval needed: Deploy v2.0");
  EXPECT_EQ(mail.Header("Date"), "Sat, 21 Nov 2026 10:00:00 +0000");
  EXPECT_EQ(mail.Header("Message-ID"), channel->ThreadId(kId, "alice@example.com"));
  EXPECT_TRUE(mail.Header("Message-ID").starts_with(std::string("<") + kId + "."));
  EXPECT_TRUE(mail.Header("Message-ID").ends_with("@cs.example.com>"));
  EXPECT_EQ(mail.headers.count("In-Reply-To"), 0u);
  EXPECT_EQ(mail.Header("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(mail.Header("X-Countersign-Request"), kId);

  const std::string approve = links_.Url(r, "approve", "alice");
  const std::string deny = links_.Url(r, "deny", "alice");
  EXPECT_EQ(mail.text,
            "Approval needed\r\n\r\nDeploy v2.0\r\n\r\n"
            "Action:        deploy_production\r\n"
            "Requested by:  ci-bot\r\n"
            "Deadline:      2026-11-21 10:15 UTC\r\n"
            "Risk:          normal\r\n"
            "Policy:        prod-deploys\r\n"
            "Approvers:     alice, bob, carol (2 needed)\r\n"
            "\r\nArguments:\r\n{\r\n  \"ref\": \"v2.0\"\r\n}\r\n"
            "\r\nChoose:\r\n  Approve: " +
                approve + "\r\n  Deny: " + deny +
                "\r\n\r\nEach link opens a page that asks you to confirm; opening it decides "
                "nothing.\r\nThese links decide as alice. Do not forward this message.\r\n"
                "\r\nOpen in the inbox: https://cs.example.com/ui/requests/" +
                kId + "\r\n\r\n-- \r\ncountersign request " + kId + "\r\n");
  EXPECT_NE(mail.html.find("<a href=\"" + approve + "\""), std::string::npos) << mail.html;
  EXPECT_NE(mail.html.find("<a href=\"" + deny + "\""), std::string::npos);
  EXPECT_NE(mail.html.find("<h2 style=\"margin:4px 0 12px 0\">Deploy v2.0</h2>"),
            std::string::npos);
  EXPECT_NE(mail.html.find("<th style=\"text-align:left;padding:2px 12px 2px 0;vertical-align:"
                           "top\">Requested by</th><td style=\"padding:2px 0\">ci-bot</td>"),
            std::string::npos);
  EXPECT_NE(mail.html.find("These links decide as alice."), std::string::npos);
  // The inbox link comes after the one-click links.
  const size_t inbox = mail.html.find("<p><a href=\"https://cs.example.com/ui/requests/" +
                                      std::string(kId) + "\">Open in the inbox</a></p>");
  ASSERT_NE(inbox, std::string::npos) << mail.html;
  EXPECT_GT(inbox, mail.html.find("<a href=\"" + deny + "\""));

  // Each recipient's links are their own: bob's decide as bob, ops@ as the channel.
  auto bob = Compose(*channel, Row("post", "request.created", "Bob@Example.com"), r);
  EXPECT_NE(bob.text.find(links_.Url(r, "approve", "bob")), std::string::npos);
  EXPECT_EQ(bob.text.find(approve), std::string::npos);
  EXPECT_NE(bob.Header("Message-ID"), mail.Header("Message-ID"));
  auto ops = Compose(*channel, Row("post", "request.created", "ops@example.com"), r);
  EXPECT_NE(ops.text.find(links_.Url(r, "approve", "channel:email-ops")), std::string::npos);
}

TEST_F(EmailChannelTest, TheFollowUpRepliesToTheFirstMessageWithTheOutcomeAndNoLinks) {
  auto channel = Make();
  Request r = Fixture();
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice", "bob"};
  r.decisions = {{"dec_1", kId, "alice", "approve", Outcome::kApproved, "ship it", "", {}, kNow},
                 {"dec_2", kId, "bob", "approve", Outcome::kApproved, "", "", {}, kNow}};
  auto mail = Compose(*channel, Row("update", "request.resolved", "alice@example.com", 42), r);
  const std::string thread = channel->ThreadId(kId, "alice@example.com");
  EXPECT_EQ(mail.Header("In-Reply-To"), thread);
  EXPECT_EQ(mail.Header("References"), thread);
  EXPECT_EQ(mail.Header("Message-ID"),
            thread.substr(0, thread.find('@')) + ".42" + thread.substr(thread.find('@')));
  EXPECT_EQ(mail.Header("Subject"), "Re: Approval needed: Deploy v2.0");
  EXPECT_TRUE(mail.text.starts_with("Approved by alice, bob\r\n")) << mail.text;
  EXPECT_NE(mail.text.find("Decisions:\r\n- alice: Approve \u2014 \u201cship it\u201d\r\n"
                           "- bob: Approve\r\n"),
            std::string::npos)
      << mail.text;
  EXPECT_EQ(mail.text.find("/l/"), std::string::npos);
  EXPECT_EQ(mail.html.find("/l/"), std::string::npos);
  EXPECT_NE(mail.html.find("<li>alice: Approve \u2014 \u201cship it\u201d</li>"),
            std::string::npos);
  // No choices any more, but the request's page is still linked.
  EXPECT_NE(mail.text.find("\r\nOpen in the inbox: https://cs.example.com/ui/requests/" +
                           std::string(kId) + "\r\n"),
            std::string::npos)
      << mail.text;
  EXPECT_NE(mail.html.find("<a href=\"https://cs.example.com/ui/requests/" + std::string(kId) +
                           "\">Open in the inbox</a>"),
            std::string::npos);

  // A reminder is in the thread too, under its own id.
  r = Fixture();
  auto reminder = Compose(*channel, Row("post", "request.reminded", "alice@example.com", 9), r);
  EXPECT_EQ(reminder.Header("In-Reply-To"), thread);
  EXPECT_TRUE(reminder.text.starts_with(
      "Approval needed \u00b7 reminder: still waiting for a decision\r\n"));
  EXPECT_NE(reminder.text.find(links_.Url(r, "approve", "alice")), std::string::npos);
}

TEST_F(EmailChannelTest, RequestTextCannotAddHeadersOrMarkup) {
  auto channel = Make();
  Request r = Fixture();
  r.title = "Deploy\r\nBcc: evil@example.net\r\n\r\n<b>v2</b> & more";
  r.requester = "ci-bot\r\nX-Evil: 1";
  r.details = {{"ticket", "<script>alert(1)</script>"}};
  auto message = channel->Compose(Row("post", "request.created", "alice@example.com"), r);
  ASSERT_TRUE(message.ok());
  auto mail = testing::ReadMailMessage(message.value());
  for (const auto& line : mail.header_lines) {
    EXPECT_FALSE(line.starts_with("Bcc")) << line;
    EXPECT_FALSE(line.starts_with("X-Evil")) << line;
  }
  EXPECT_EQ(mail.Header("Subject"),
            "Approval needed: Deploy  Bcc: evil@example.net    <b>v2</b> & more");
  EXPECT_EQ(mail.html.find("<b>v2</b>"), std::string::npos);
  EXPECT_NE(mail.html.find("&lt;b&gt;v2&lt;/b&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(mail.html.find("<script>"), std::string::npos);
  EXPECT_NE(mail.html.find("&lt;script&gt;"), std::string::npos);
  // The parts are base64: nothing in the title can end a part.
  const std::string& raw = message.value();
  EXPECT_EQ(raw.find("<b>v2</b>", raw.find("\r\n\r\n")), std::string::npos);

  // A target that is not a plain address is refused before anything is written.
  auto injected = channel->Compose(
      Row("post", "request.created", "alice@example.com\r\nBcc: evil@example.net"), r);
  EXPECT_FALSE(injected.ok());
}

TEST_F(EmailChannelTest, ANonAsciiTitleGivesAnEncodedSubject) {
  auto channel = Make();
  Request r = Fixture();
  r.title = "Déployer la v2.0 \U0001F680 en production";
  auto message = channel->Compose(Row("post", "request.created", "alice@example.com"), r);
  ASSERT_TRUE(message.ok());
  auto mail = testing::ReadMailMessage(message.value());
  EXPECT_TRUE(mail.headers["Subject"].starts_with("=?UTF-8?B?")) << mail.headers["Subject"];
  EXPECT_EQ(mail.Header("Subject"), "Approval needed: " + r.title);
  EXPECT_NE(mail.text.find(r.title), std::string::npos);
}

TEST_F(EmailChannelTest, AnAllowedDomainGetsNoLinksAndAnyOtherAddressIsRefused) {
  auto channel = Make();
  const Request r = Fixture();
  auto partner = Compose(*channel, Row("post", "request.created", "pat@partner.example.org"), r);
  EXPECT_EQ(partner.text.find("/l/"), std::string::npos);
  EXPECT_NE(partner.text.find("This message carries no decision links"), std::string::npos);
  EXPECT_EQ(partner.html.find("/l/"), std::string::npos);
  // The inbox asks who signs in, so the request's page is linked even here.
  EXPECT_NE(partner.text.find("Open in the inbox: https://cs.example.com/ui/requests/"),
            std::string::npos);

  auto refused = channel->Compose(Row("post", "request.created", "me@agent.example.net"), r);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not a recipient of email channel 'email-ops'"),
            std::string::npos);
  CurlTransport unused;
  const auto outcome = channel->Deliver(Row("post", "request.created", "me@agent.example.net"), r,
                                        "", unused, 1000ms);
  EXPECT_EQ(outcome.kind, DeliveryOutcome::Kind::kFailed);
  EXPECT_NE(outcome.error.find("me@agent.example.net"), std::string::npos);
}

TEST_F(EmailChannelTest, TheSameRowGivesTheSameBytes) {
  auto channel = Make();
  const auto row = Row("post", "request.created", "alice@example.com");
  EXPECT_EQ(channel->Compose(row, Fixture()).value(), channel->Compose(row, Fixture()).value());
}

TEST_F(EmailChannelTest, ARelayThatRefusesTheConnectionIsRetried) {
  auto settings = Settings();
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  settings.values["smtp_url"] = "smtp://127.0.0.1:1";
  settings.values["starttls"] = "off";
  auto channel = Make(settings);
  CurlTransport unused;
  const auto outcome = channel->Deliver(Row("post", "request.created", "alice@example.com"),
                                        Fixture(), "", unused, 5000ms);
  EXPECT_EQ(outcome.kind, DeliveryOutcome::Kind::kRetry) << outcome.error;
  EXPECT_TRUE(outcome.error.starts_with("SMTP: ")) << outcome.error;
}

TEST(SmtpClassifyTest, FourHundredsAreRetriedFiveHundredsFailAndMissingStarttlsIsExplained) {
  using Kind = SmtpResult::Kind;
  auto no_tls =
      ClassifySmtpFailure(CURLE_USE_SSL_FAILED, 250, "250 HELP", "STARTTLS not supported.");
  EXPECT_EQ(no_tls.kind, Kind::kNoStartTls);
  EXPECT_NE(no_tls.error.find("does not offer STARTTLS and starttls = \"required\""),
            std::string::npos);

  auto busy = ClassifySmtpFailure(CURLE_WEIRD_SERVER_REPLY, 451, "451 4.3.0 try again later",
                                  "Weird server reply");
  EXPECT_EQ(busy.kind, Kind::kTransient);
  EXPECT_EQ(busy.error,
            "the SMTP server answered \"451 4.3.0 try again later\" (Weird server reply)");
  EXPECT_EQ(ClassifySmtpFailure(CURLE_SEND_ERROR, 421, "", "MAIL failed: 421").kind,
            Kind::kTransient);

  auto unknown =
      ClassifySmtpFailure(CURLE_SEND_ERROR, 550, "550 5.1.1 no such user", "RCPT failed: 550");
  EXPECT_EQ(unknown.kind, Kind::kPermanent);
  EXPECT_NE(unknown.error.find("550 5.1.1 no such user"), std::string::npos);
  EXPECT_EQ(ClassifySmtpFailure(CURLE_LOGIN_DENIED, 535, "", "Login denied").kind,
            Kind::kPermanent);
  EXPECT_EQ(ClassifySmtpFailure(CURLE_LOGIN_DENIED, 0, "", "Login denied").kind, Kind::kPermanent);
  EXPECT_EQ(ClassifySmtpFailure(CURLE_PEER_FAILED_VERIFICATION, 0, "", "SSL peer").kind,
            Kind::kPermanent);

  for (CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                        CURLE_SEND_ERROR, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING}) {
    auto r = ClassifySmtpFailure(code, 0, "", curl_easy_strerror(code));
    EXPECT_EQ(r.kind, Kind::kTransient) << code;
    EXPECT_EQ(r.error, std::string("SMTP: ") + curl_easy_strerror(code));
  }
  // A 2xx or 3xx as the last reply decides nothing: the connection broke after it.
  EXPECT_EQ(ClassifySmtpFailure(CURLE_RECV_ERROR, 250, "250 OK", "Failure when receiving").kind,
            Kind::kTransient);
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(EmailChannelTest, ALinksColourComesFromItsOutcomeAndACustomLabelSaysWhatItDoes) {
  auto channel = Make();
  Request r = Fixture();
  r.choices = {{"ship", "Ship it", "danger", Outcome::kApproved},
               {"hold", "Hold", "primary", Outcome::kDenied}};
  auto mail = Compose(*channel, Row("post", "request.created", "alice@example.com"), r);
  EXPECT_NE(mail.text.find("Ship it \u2014 approves: "), std::string::npos) << mail.text;
  EXPECT_NE(mail.text.find("Hold \u2014 denies: "), std::string::npos) << mail.text;
  EXPECT_NE(mail.html.find("background:#2eb886\">Ship it \u2014 approves</a>"), std::string::npos)
      << mail.html;
  EXPECT_NE(mail.html.find("background:#d13438\">Hold \u2014 denies</a>"), std::string::npos)
      << mail.html;
}

}  // namespace
}  // namespace countersign
