#include "notify/curl_transport.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "testing/http_recorder.hpp"

namespace countersign {
namespace {

using std::chrono::milliseconds;

OutboundCall Post(std::string url) {
  OutboundCall call;
  call.url = std::move(url);
  call.headers = {{"Content-Type", "application/json"}};
  call.body = "{}";
  return call;
}

OutboundPolicy Allowing(std::vector<std::string> allow, bool allow_http = false) {
  return OutboundPolicy::Make({std::move(allow), allow_http}, "test").value();
}

TEST(CurlTransportTest, ByDefaultALoopbackReceiverIsNeverCalled) {
  testing::HttpRecorder recorder;
  CurlTransport transport;
  const OutboundReply reply = transport.Send(Post(recorder.Url("/cb")), milliseconds(5000));
  EXPECT_EQ(reply.status, 0);
  EXPECT_TRUE(reply.refused);
  EXPECT_NE(reply.error.find("outbound policy"), std::string::npos) << reply.error;
  EXPECT_TRUE(recorder.received().empty());
}

TEST(CurlTransportTest, ANameThatResolvesToLoopbackIsRefusedAtConnectTime) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  testing::HttpRecorder recorder;
  CurlTransport transport(Allowing({}, /*allow_http=*/true));
  const std::string url = "http://" + std::string(name) + ":" + std::to_string(recorder.port());
  const OutboundReply reply = transport.Send(Post(url + "/cb"), milliseconds(5000));
  if (!reply.refused && reply.status == 0) {
    GTEST_SKIP() << "this machine's name does not resolve: " << reply.error;
  }
  EXPECT_TRUE(reply.refused) << "status " << reply.status;
  EXPECT_NE(reply.error.find("refused by the outbound policy"), std::string::npos) << reply.error;
  EXPECT_TRUE(recorder.received().empty());
}

TEST(CurlTransportTest, AnAllowedReceiverIsCalledAndItsRedirectNotFollowed) {
  testing::HttpRecorder recorder;
  recorder.Script({302, "moved", {{"Location", "http://169.254.169.254/latest/meta-data/"}}});
  CurlTransport transport(Allowing({"127.0.0.1/32"}));
  const OutboundReply reply = transport.Send(Post(recorder.Url("/cb")), milliseconds(5000));
  EXPECT_FALSE(reply.refused) << reply.error;
  EXPECT_EQ(reply.status, 302);
  EXPECT_EQ(recorder.received().size(), 1u);
}

}  // namespace
}  // namespace countersign
