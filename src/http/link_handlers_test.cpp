#include "http/link_handlers.hpp"

#include <future>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "store/sqlite/sqlite_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using RequestPtr = Gateway::RequestPtr;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
// 43 base64url characters whose last leaves its unused low bits zero: a value GET could set.
const std::string kCsrf = std::string(42, 'C') + "A";

class LinkHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open().ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
    auto pages = LinkPages::Load();
    ASSERT_TRUE(pages.ok()) << pages.error().message;
    pages_.emplace(std::move(pages).value());
    handlers_.emplace(*gateway_, clock_, signer_, builder_, *pages_, metrics_,
                      PublicUrl::Parse("https://approvals.example.com", "public_url").value());
  }

  void TearDown() override {
    handlers_.reset();
    harness_.Close();
  }

  RequestPtr Create(NewRequest input = {}) {
    input.action = "deploy_production";
    input.title = "Deploy v2.0";
    auto created = testing::GatewayHarness::Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(kAgent, std::move(input), std::move(done)); });
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  std::string Token(const Request& r, std::string choice = "approve",
                    std::string recipient = "alice") {
    return signer_.Sign(
        {r.tenant, r.id, std::move(choice), std::move(recipient), clock_.Now() + 1h});
  }

  HttpResponse Get(const std::string& token) {
    HttpRequest request{http::verb::get, "/l/" + token, 11};
    return Run(request, token, false);
  }

  // A POST as the confirm page's form sends it, unless the test changes the parts.
  HttpResponse Post(const std::string& token, std::string body = "csrf=" + kCsrf,
                    std::string cookie = "cs_link_csrf=" + kCsrf,
                    std::string content_type = "application/x-www-form-urlencoded",
                    std::string origin = "https://approvals.example.com") {
    HttpRequest request{http::verb::post, "/l/" + token, 11};
    if (!cookie.empty()) request.set(http::field::cookie, cookie);
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    if (!origin.empty()) request.set(http::field::origin, origin);
    request.body() = std::move(body);
    request.prepare_payload();
    return Run(request, token, true);
  }

  HttpResponse Run(const HttpRequest& request, const std::string& token, bool post) {
    RequestContext ctx{request, {{"token", token}}, {}, {}, {}, {}, {}};
    auto future =
        asio::co_spawn(io_, post ? handlers_->Submit(ctx) : handlers_->Show(ctx), asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }

  std::string Status(const Request& r) {
    auto found = gateway_->Get({"admin", Role::kAdmin, "default", {}}, r.id);
    return found.ok() ? StatusName(found.value()->status) : "?";
  }

  size_t EventCount(const Request& r) {
    auto events = store_->ListEvents({"default", r.id, 0, 1000});
    return events.ok() ? events->size() : 0;
  }

  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  SqliteStore* store_ = nullptr;
  Gateway* gateway_ = nullptr;
  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder builder_{"https://approvals.example.com", signer_};
  std::optional<LinkPages> pages_;
  Metrics metrics_;
  std::optional<LinkHandlers> handlers_;
  asio::io_context io_;
};

bool Contains(const HttpResponse& res, std::string_view needle) {
  return res.body().find(needle) != std::string::npos;
}

TEST_F(LinkHandlersTest, GetRendersTheConfirmPageWithProtectiveHeaders) {
  auto r = Create();
  auto res = Get(Token(*r));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(res["Content-Security-Policy"].find("default-src 'none'"), std::string::npos);
  EXPECT_NE(res["Content-Security-Policy"].find("form-action 'self'"), std::string::npos);
  EXPECT_NE(res["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
  const std::string cookie(res[http::field::set_cookie]);
  EXPECT_EQ(cookie.rfind("cs_link_csrf=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Path=/l/; HttpOnly; SameSite=Strict; Secure"), std::string::npos);
  const std::string value = cookie.substr(13, 43);
  EXPECT_TRUE(Contains(res, "name=\"csrf\" value=\"" + value + "\""));
  EXPECT_TRUE(Contains(res, "><bdi>Approve</bdi></button>"));
}

TEST_F(LinkHandlersTest, ManyGetsChangeNothingAndWriteNoEvent) {
  auto r = Create();
  const size_t events = EventCount(*r);
  const std::string token = Token(*r);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get(token).result(), http::status::ok);
  EXPECT_EQ(Status(*r), "pending");
  EXPECT_EQ(EventCount(*r), events);
}

TEST_F(LinkHandlersTest, GetReusesACsrfCookieTheBrowserAlreadyHolds) {
  auto r = Create();
  HttpRequest request{http::verb::get, "/l/x", 11};
  request.set(http::field::cookie, "cs_link_csrf=" + kCsrf);
  const std::string token = Token(*r);
  auto res = Run(request, token, false);
  EXPECT_TRUE(Contains(res, "value=\"" + kCsrf + "\""));
}

TEST_F(LinkHandlersTest, PostWithMatchingCookieAndFieldDecidesAsTheRecipient) {
  auto r = Create();
  auto res = Post(Token(*r), "csrf=" + kCsrf + "&comment=ship+it");
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_TRUE(Contains(res, "Your decision was recorded"));
  EXPECT_EQ(Status(*r), "approved");
  auto found = gateway_->Get({"admin", Role::kAdmin, "default", {}}, r->id);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found.value()->decisions.size(), 1u);
  EXPECT_EQ(found.value()->decisions[0].principal, "alice");
  EXPECT_EQ(found.value()->decisions[0].comment, "ship it");
}

TEST_F(LinkHandlersTest, ADenyLinkDenies) {
  auto r = Create();
  EXPECT_EQ(Post(Token(*r, "deny")).result(), http::status::ok);
  EXPECT_EQ(Status(*r), "denied");
}

TEST_F(LinkHandlersTest, PostsFailingTheCsrfCheckAre403AndChangeNothing) {
  auto r = Create();
  const std::string token = Token(*r);
  const std::string form = "application/x-www-form-urlencoded";
  const std::string origin = "https://approvals.example.com";
  std::vector<HttpResponse> refused = {
      Post(token, "csrf=" + kCsrf, ""),                                     // no cookie
      Post(token, "comment=x", "cs_link_csrf=" + kCsrf),                    // no field
      Post(token, "csrf=" + std::string(42, 'D') + "A"),                    // mismatch
      Post(token, "csrf=short", "cs_link_csrf=short"),                      // not ours
      Post(token, "csrf=" + kCsrf, "cs_link_csrf=" + kCsrf, "text/plain"),  // other form type
      Post(token, "csrf=" + kCsrf, "cs_link_csrf=" + kCsrf, form, "https://evil.example"),
      Post(token, "csrf=%zz", "cs_link_csrf=" + kCsrf),  // unparsable
  };
  for (const auto& res : refused) {
    EXPECT_EQ(res.result(), http::status::forbidden) << res.body();
    EXPECT_TRUE(Contains(res, "This form has expired, open the link again"));
  }
  HttpRequest cross{http::verb::post, "/l/x", 11};
  cross.set(http::field::cookie, "cs_link_csrf=" + kCsrf);
  cross.set(http::field::content_type, form);
  cross.set("Sec-Fetch-Site", "cross-site");
  cross.body() = "csrf=" + kCsrf;
  EXPECT_EQ(Run(cross, token, true).result(), http::status::forbidden);
  EXPECT_EQ(Status(*r), "pending");
  // Without Origin, or with the "null" a no-referrer page sends, the cookie decides.
  EXPECT_EQ(Post(token, "csrf=" + kCsrf, "cs_link_csrf=" + kCsrf, form, "null").result(),
            http::status::ok);
}

TEST_F(LinkHandlersTest, TamperedAndForeignTokensAre400) {
  auto r = Create();
  std::string token = Token(*r);
  token[5] = token[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get(token).result(), http::status::bad_request);
  EXPECT_TRUE(Contains(Get(token), "This link is not valid"));
  EXPECT_EQ(Post(token).result(), http::status::bad_request);
  const std::string foreign = LinkSigner(std::string(32, 'z'))
                                  .Sign({"default", r->id, "approve", "alice", clock_.Now() + 1h});
  EXPECT_EQ(Get(foreign).result(), http::status::bad_request);
  EXPECT_EQ(Get("garbage").result(), http::status::bad_request);
  EXPECT_EQ(Status(*r), "pending");
}

TEST_F(LinkHandlersTest, AChoiceTheRequestDoesNotHaveIs400) {
  auto r = Create();
  EXPECT_EQ(Get(Token(*r, "perhaps")).result(), http::status::bad_request);
  EXPECT_EQ(Post(Token(*r, "perhaps")).result(), http::status::bad_request);
}

TEST_F(LinkHandlersTest, UnknownRequestsAndOtherTenantsAre404) {
  auto r = Create();
  const std::string missing = signer_.Sign(
      {"default", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "approve", "alice", clock_.Now() + 1h});
  EXPECT_EQ(Get(missing).result(), http::status::not_found);
  const std::string other_tenant =
      signer_.Sign({"tenant-b", r->id, "approve", "alice", clock_.Now() + 1h});
  EXPECT_EQ(Get(other_tenant).result(), http::status::not_found);
  EXPECT_EQ(Post(other_tenant).result(), http::status::not_found);
  EXPECT_EQ(Status(*r), "pending");
}

TEST_F(LinkHandlersTest, ExpiredLinksAre410AndShowTheState) {
  auto r = Create();  // its deadline is 5 minutes away; the link's only 1
  const std::string token =
      signer_.Sign({r->tenant, r->id, "approve", "alice", clock_.Now() + 60s});
  clock_.Advance(61s);
  auto got = Get(token);
  EXPECT_EQ(got.result(), http::status::gone);
  EXPECT_TRUE(Contains(got, "This link has expired"));
  EXPECT_TRUE(Contains(got, "still pending"));
  EXPECT_EQ(Post(token).result(), http::status::gone);
  EXPECT_EQ(Status(*r), "pending");
}

TEST_F(LinkHandlersTest, TheRequesterCannotDecideThroughALink) {
  auto r = Create();
  auto res = Post(Token(*r, "approve", "ci-bot"));
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_TRUE(Contains(res, "the requester may not decide its own request"));
  EXPECT_EQ(Status(*r), "pending");
}

TEST_F(LinkHandlersTest, ARecipientWhoIsNotAnApproverIs403) {
  NewRequest input;
  input.approvers = {"bob"};
  auto r = Create(input);
  auto res = Post(Token(*r, "approve", "alice"));
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_TRUE(Contains(res, "alice is not an approver of this request"));
  EXPECT_EQ(Status(*r), "pending");
  EXPECT_EQ(Post(Token(*r, "approve", "bob")).result(), http::status::ok);
  EXPECT_EQ(Status(*r), "approved");
}

TEST_F(LinkHandlersTest, ResolvedRequestsAre409ForGetAndPost) {
  auto r = Create();
  EXPECT_EQ(Post(Token(*r, "deny", "bob")).result(), http::status::ok);
  auto got = Get(Token(*r));
  EXPECT_EQ(got.result(), http::status::conflict);
  EXPECT_TRUE(Contains(got, "already been decided"));
  EXPECT_TRUE(Contains(got, "denied (decided by bob)"));
  EXPECT_EQ(Post(Token(*r)).result(), http::status::conflict);
  EXPECT_EQ(Status(*r), "denied");
}

TEST_F(LinkHandlersTest, VotingTwiceOnAQuorumRequestIs409) {
  NewRequest input;
  input.quorum = 2;
  auto r = Create(input);
  auto first = Post(Token(*r));
  EXPECT_EQ(first.result(), http::status::ok);
  EXPECT_TRUE(Contains(first, "still pending: 1 of 2 approvals"));
  auto again = Post(Token(*r));
  EXPECT_EQ(again.result(), http::status::conflict);
  EXPECT_TRUE(Contains(again, "alice has already decided"));
}

TEST_F(LinkHandlersTest, AnInvalidDecisionIs422) {
  auto r = Create();
  auto res = Post(Token(*r), "csrf=" + kCsrf + "&comment=" + std::string(5000, 'x'));
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  EXPECT_TRUE(Contains(res, "comment is longer than"));
  EXPECT_EQ(Status(*r), "pending");
}

TEST_F(LinkHandlersTest, AQuestionIsAnsweredFromTheAnswerField) {
  NewRequest input;
  input.kind = "question";
  auto r = Create(input);
  EXPECT_EQ(Post(Token(*r, "answer")).result(), http::status::unprocessable_entity);
  auto res = Post(Token(*r, "answer"), "csrf=" + kCsrf + "&answer=blue+slot");
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(Status(*r), "answered");
}

}  // namespace
}  // namespace countersign
