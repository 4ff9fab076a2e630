#include "notify/webhook_channel.hpp"

#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/sha256.hpp"

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
  EXPECT_EQ(body.size(), 8u) << "delivery, event, seq, at, actor, data, request, inbox_url";

  // Without a URL to give (a notifier with no LinkBuilder), the key is there and null.
  const json::object without = json::parse(WebhookBody("dlv_2", ResolvedEvent(), &r)).as_object();
  EXPECT_TRUE(without.at("inbox_url").is_null());
}

TEST(WebhookBodyTest, AnEventAboutNoRequestHasNoInboxUrl) {
  Event checkpoint = ResolvedEvent();
  checkpoint.type = "audit.checkpoint";
  checkpoint.request_id.clear();
  const json::object body =
      json::parse(WebhookBody("dlv_3", checkpoint, nullptr, kInboxUrl)).as_object();
  EXPECT_TRUE(body.at("request").is_null());
  EXPECT_TRUE(body.at("inbox_url").is_null());
}

TEST(WebhookChannelTest, TheSignedBodyIsTheRowsFrozenPayloadWithItsInboxUrl) {
  Request r;
  r.id = kId;
  WebhookChannel channel("ops-hook", "https://hooks.example.com/cs", "0123456789abcdef", {});
  OutboxRow row;
  row.delivery_id = "dlv_1";
  row.event = "request.resolved";
  row.kind = "event";
  row.payload = WebhookBody("dlv_1", ResolvedEvent(), &r, kInboxUrl);
  auto call = channel.Render(row, r, "");
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->body, row.payload);
  EXPECT_EQ(json::parse(call->body).at("inbox_url"), kInboxUrl);
  bool signed_body = false;
  for (const auto& [name, value] : call->headers) {
    if (name == "X-Countersign-Signature") {
      signed_body = value == "sha256=" + HmacSha256Hex("0123456789abcdef", row.payload);
    }
  }
  EXPECT_TRUE(signed_body);
}

}  // namespace
}  // namespace countersign
