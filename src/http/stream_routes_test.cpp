// Stream routes in the Router (authentication and errors before the hand-over), and the text
// of stream messages.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "engine/event_bus.hpp"
#include "http/event_frames.hpp"
#include "http/router.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

class TokenIsBob final : public Authenticator {
 public:
  Result<Actor> Authenticate(std::string_view authorization) override {
    if (authorization != "Bearer bob") return Error::Unauthorized("missing or unknown token");
    return Actor{"bob", Role::kApprover, "default", {}};
  }
};

Router::Routed RouteNow(Router& router, const HttpRequest& request) {
  asio::io_context io;
  std::optional<Router::Routed> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await router.Route(request); }, asio::detached);
  io.run();
  return std::move(*out);
}

HttpRequest Get(std::string target, std::string token = "bob") {
  HttpRequest request{http::verb::get, target, 11};
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  return request;
}

class StreamRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.File("countersign.db");
    auto opened = SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    router_.AddStream(
        http::verb::get, "/v1/events", Router::Access::kAuthenticated,
        [this](RequestContext& ctx) -> asio::awaitable<Result<StreamUpgrade>> {
          ++calls_;
          if (ctx.Query("since") == "bad") co_return Error::Malformed("bad since");
          seen_ = ctx.actor.name;
          auto feed = std::make_unique<EventFeed>(bus_, *store_, ctx.actor, "", std::nullopt);
          co_return StreamUpgrade{StreamProtocol::kServerSentEvents, std::move(feed), nullptr};
        });
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  TokenIsBob auth_;
  Router router_{auth_};
  EventBus bus_;
  int calls_ = 0;
  std::string seen_;
};

TEST_F(StreamRouteTest, AnAuthenticatedStreamRequestIsHandedOver) {
  auto routed = RouteNow(router_, Get("/v1/events"));
  ASSERT_TRUE(routed.upgrade.has_value());
  EXPECT_EQ(routed.upgrade->protocol, StreamProtocol::kServerSentEvents);
  EXPECT_EQ(routed.upgrade->feed->actor().name, "bob");
  EXPECT_EQ(seen_, "bob");
  ASSERT_TRUE(routed.upgrade->authorized) << "an authenticated stream can re-check its token";
  EXPECT_TRUE(routed.upgrade->authorized());
}

TEST_F(StreamRouteTest, NoTokenIs401BeforeTheHandlerRuns) {
  auto routed = RouteNow(router_, Get("/v1/events", ""));
  EXPECT_FALSE(routed.upgrade.has_value());
  EXPECT_EQ(routed.response.result(), http::status::unauthorized);
  EXPECT_EQ(calls_, 0);
}

TEST_F(StreamRouteTest, AHandlerErrorIsAnOrdinaryJsonResponse) {
  auto routed = RouteNow(router_, Get("/v1/events?since=bad"));
  EXPECT_FALSE(routed.upgrade.has_value());
  EXPECT_EQ(routed.response.result(), http::status::bad_request);
  auto body = boost::json::parse(routed.response.body());
  EXPECT_EQ(body.at("error").at("code").as_string(), "malformed");
}

TEST_F(StreamRouteTest, AnotherMethodIs405) {
  HttpRequest post = Get("/v1/events");
  post.method(http::verb::post);
  auto routed = RouteNow(router_, post);
  EXPECT_FALSE(routed.upgrade.has_value());
  EXPECT_EQ(routed.response.result(), http::status::method_not_allowed);
}

TEST(EventFramesTest, AnSseMessageCarriesSeqTypeAndTheEventJsonOnOneLine) {
  Event e;
  e.seq = 42;
  e.tenant = "default";
  e.request_id = "req_1";
  e.type = "decision.recorded";
  e.actor = "alice";
  e.data = {{"comment", "line one\nline two"}};
  std::string out;
  AppendSseEvent(out, e);
  const std::string json = EventJsonText(e);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(out, "id: 42\nevent: decision.recorded\ndata: " + json + "\n\n");
  auto parsed = boost::json::parse(json);
  EXPECT_EQ(parsed.at("seq").as_int64(), 42);
  EXPECT_EQ(parsed.at("data").at("comment").as_string(), "line one\nline two");
}

TEST(EventFramesTest, TheOverflowMessagesSayWhereToResume) {
  const std::string sse = SseOverflowMessage(17);
  EXPECT_EQ(sse.rfind("event: overflow\ndata: ", 0), 0u);
  EXPECT_EQ(sse.find("id:"), std::string::npos) << "Last-Event-ID must stay on the last event";
  auto data = boost::json::parse(sse.substr(std::string("event: overflow\ndata: ").size()));
  EXPECT_EQ(data.at("since").as_int64(), 17);
  EXPECT_EQ(data.at("error").at("code").as_string(), "slow_consumer");
  EXPECT_EQ(OverflowCloseReason(17), "slow consumer: resume with since=17");
  EXPECT_LE(OverflowCloseReason(INT64_MAX).size(), 123u);
}

}  // namespace
}  // namespace countersign
