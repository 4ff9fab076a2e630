#include "notify/webhook_channel.hpp"

#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/sha256.hpp"
#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
constexpr char kInboxUrl[] =
    "https://example.com/approvals/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";

Event ResolvedEvent() {
  Event e;
  e.seq = 42;
  e.at = FromUnixMillis(1795255392418);
  e.tenant = "default";
  e.request_id = kId;
  e.type = "request.resolved";
  e.actor = "alice";
  e.data = {{"status", "approved"}};
  return e;
}

TEST(WebhookBodyTest, ABodyAboutARequestCarriesItsInboxUrl) {
  Request r;
  r.id = kId;
  r.tenant = "default";
  r.status = RequestStatus::kApproved;
  const json::object body =
      json::parse(WebhookBody("dlv_1", ResolvedEvent(), &r, kInboxUrl)).as_object();
  EXPECT_EQ(body.at("inbox_url"), kInboxUrl);
  EXPECT_EQ(body.at("request").at("id"), kId);
  EXPECT_EQ(body.at("delivery"), "dlv_1");
  EXPECT_EQ(body.at("event"), "request.resolved");
  EXPECT_EQ(body.size(), 10u)
      << "delivery, event, seq, at, actor, data, request, status, reason_code, inbox_url";

  // Without a URL to give (a notifier with no LinkBuilder), the key is there and null.
  const json::object without = json::parse(WebhookBody("dlv_2", ResolvedEvent(), &r)).as_object();
  EXPECT_TRUE(without.at("inbox_url").is_null());
}

TEST(WebhookBodyTest, TheStatusAndReasonCodeSitAtTheTopLevel) {
  Request r;
  r.id = kId;
  r.tenant = "default";
  r.status = RequestStatus::kDenied;
  r.reason_code = ReasonCode::kDeniedByPolicy;
  const json::object body = json::parse(WebhookBody("dlv_4", ResolvedEvent(), &r)).as_object();
  EXPECT_EQ(body.at("status"), "denied");
  EXPECT_EQ(body.at("reason_code"), "denied_by_policy");
  EXPECT_EQ(body.at("request").at("reason_code"), "denied_by_policy");

  // Still pending (request.created): no reason yet.
  r.status = RequestStatus::kPending;
  r.reason_code = ReasonCode::kNone;
  const json::object pending = json::parse(WebhookBody("dlv_5", ResolvedEvent(), &r)).as_object();
  EXPECT_EQ(pending.at("status"), "pending");
  EXPECT_TRUE(pending.at("reason_code").is_null());
}

TEST(WebhookBodyTest, AnEventAboutNoRequestHasNoInboxUrl) {
  Event checkpoint = ResolvedEvent();
  checkpoint.type = "audit.checkpoint";
  checkpoint.request_id.clear();
  const json::object body =
      json::parse(WebhookBody("dlv_3", checkpoint, nullptr, kInboxUrl)).as_object();
  EXPECT_TRUE(body.at("request").is_null());
  EXPECT_TRUE(body.at("inbox_url").is_null());
  EXPECT_TRUE(body.at("status").is_null());
  EXPECT_TRUE(body.at("reason_code").is_null());
}

// A header of `call`, or "" when it has none.
std::string Header(const OutboundCall& call, const std::string& wanted) {
  for (const auto& [name, value] : call.headers) {
    if (name == wanted) return value;
  }
  return "";
}

TEST(WebhookChannelTest, TheSignedBodyIsTheRowsFrozenPayloadWithItsInboxUrl) {
  Request r;
  r.id = kId;
  testing::FakeClock clock;
  WebhookChannel channel("ops-hook", "https://hooks.example.com/cs", "0123456789abcdef", {}, clock);
  OutboxRow row;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.event = "request.resolved";
  row.kind = "event";
  row.payload = WebhookBody("dlv_1", ResolvedEvent(), &r, kInboxUrl);
  auto call = channel.Render(row, r, "");
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->body, row.payload);
  EXPECT_EQ(json::parse(call->body).at("inbox_url"), kInboxUrl);
  // The fake clock's 2026-11-21T10:00:00Z, in Unix seconds, signed with the body.
  EXPECT_EQ(Header(*call, "X-Countersign-Timestamp"), "1795255200");
  EXPECT_EQ(Header(*call, "X-Countersign-Signature"),
            "sha256=" + HmacSha256Hex("0123456789abcdef", "1795255200." + row.payload));
}

TEST(WebhookChannelTest, EachAttemptIsStampedAndSignedAtItsOwnTime) {
  Request r;
  r.id = kId;
  testing::FakeClock clock;
  WebhookChannel channel("ops-hook", "https://hooks.example.com/cs", "0123456789abcdef", {}, clock);
  OutboxRow row;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.event = "request.resolved";
  row.payload = WebhookBody("dlv_1", ResolvedEvent(), &r, kInboxUrl);
  auto first = channel.Render(row, r, "");
  clock.Advance(std::chrono::minutes(7));
  auto retry = channel.Render(row, r, "");
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_EQ(first->body, retry->body);
  EXPECT_EQ(Header(*retry, "X-Countersign-Timestamp"), "1795255620");
  EXPECT_NE(Header(*first, "X-Countersign-Signature"), Header(*retry, "X-Countersign-Signature"));
  EXPECT_EQ(Header(*retry, "X-Countersign-Signature"),
            "sha256=" + HmacSha256Hex("0123456789abcdef", "1795255620." + row.payload));
}

TEST(WebhookChannelTest, LinksGoIntoTheBodiesThatAskForADecisionWhileTheRequestIsPending) {
  LinkSigner signer{std::string(32, 'k')};
  const LinkBuilder links("https://cs.example.com", signer);
  testing::FakeClock clock;
  WebhookChannel channel("ops-hook", "https://hooks.example.com/cs", "0123456789abcdef", {}, clock,
                         &links);
  Request r;
  r.id = kId;
  r.tenant = "default";
  r.approvers = {"alice"};
  r.choices = {{"approve", "Approve", "primary", Outcome::kApproved},
               {"deny", "Deny", "danger", Outcome::kDenied}};
  r.deadline_at = FromUnixMillis(1795256100000);
  Event created = ResolvedEvent();
  created.type = "request.created";
  OutboxRow row;
  row.delivery_id = "dlv_1";
  row.request_id = kId;
  row.event = "request.created";
  row.payload = WebhookBody("dlv_1", created, &r, kInboxUrl);

  auto call = channel.Render(row, r, "");
  ASSERT_TRUE(call.ok()) << call.error().message;
  // The stored bytes come first, unchanged; the signature covers the body as sent.
  EXPECT_EQ(call->body.substr(0, row.payload.size() - 1),
            row.payload.substr(0, row.payload.size() - 1));
  const json::object body = json::parse(call->body).as_object();
  ASSERT_TRUE(body.contains("links"));
  const json::array& made = body.at("links").as_array();
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0].at("recipient"), "alice");
  EXPECT_EQ(made[0].at("choice"), "approve");
  EXPECT_EQ(made[0].at("url").as_string(), links.Url(r, "approve", "alice"));
  EXPECT_EQ(made[1].at("choice"), "deny");
  EXPECT_EQ(Header(*call, "X-Countersign-Signature"),
            "sha256=" + HmacSha256Hex("0123456789abcdef", "1795255200." + call->body));

  // Decided before the row went out: nobody may use a link any more, so none is sent.
  Request decided = r;
  decided.status = RequestStatus::kApproved;
  auto late = channel.Render(row, decided, "");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->body, row.payload);

  // An event that asks nobody to decide carries none either.
  row.event = "decision.recorded";
  auto vote = channel.Render(row, r, "");
  ASSERT_TRUE(vote.ok());
  EXPECT_EQ(vote->body, row.payload);

  // Nor does a channel without a LinkBuilder (a [[webhook]] that did not ask for links).
  WebhookChannel plain("audit-sink", "https://hooks.example.com/a", "0123456789abcdef", {}, clock);
  row.event = "request.created";
  auto unlinked = plain.Render(row, r, "");
  ASSERT_TRUE(unlinked.ok());
  EXPECT_EQ(unlinked->body, row.payload);
}

}  // namespace
}  // namespace countersign
