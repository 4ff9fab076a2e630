#include "http/response_head.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <boost/beast/http/write.hpp>

#include "http/responses.hpp"

namespace countersign {
namespace {

// What Beast's serializer writes for `response`.
std::string BeastBytes(const HttpResponse& response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

void ExpectSameAsBeast(const HttpResponse& response) {
  EXPECT_EQ(ResponseHead(response) + response.body(), BeastBytes(response));
}

TEST(ResponseHeadTest, JsonAnswerIsWhatBeastWrites) {
  HttpResponse response = JsonResponse(http::status::ok, boost::json::object{{"id", "req_1"}});
  response.set(http::field::server, "countersign");
  response.keep_alive(true);
  EXPECT_TRUE(ResponseHead(response).starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(ResponseHead(response).ends_with("\r\n\r\n"));
  ExpectSameAsBeast(response);
}

TEST(ResponseHeadTest, ErrorsCustomFieldsAndClosingAreWhatBeastWrites) {
  HttpResponse unauthorized = ErrorResponse(Error::Unauthorized("no token"));
  unauthorized.keep_alive(false);
  ExpectSameAsBeast(unauthorized);
  EXPECT_NE(ResponseHead(unauthorized).find("\r\nConnection: close\r\n"), std::string::npos);

  HttpResponse limited = ErrorResponse(Error::RateLimited("slow down", 3));
  limited.set("X-Custom-Field", "a value with spaces");
  ExpectSameAsBeast(limited);
}

TEST(ResponseHeadTest, StatusLineFollowsVersionCodeAndReason) {
  HttpResponse response{http::status::no_content, 10};
  response.prepare_payload();
  EXPECT_TRUE(ResponseHead(response).starts_with("HTTP/1.0 204 No Content\r\n"));
  ExpectSameAsBeast(response);

  HttpResponse custom{http::status::accepted, 11};
  custom.reason("Queued");
  custom.body() = "later";
  custom.prepare_payload();
  EXPECT_TRUE(ResponseHead(custom).starts_with("HTTP/1.1 202 Queued\r\n"));
  ExpectSameAsBeast(custom);

  // A status Beast knows no name for keeps its number, with Beast's placeholder for a reason.
  HttpResponse unknown{static_cast<http::status>(299), 11};
  unknown.prepare_payload();
  EXPECT_TRUE(ResponseHead(unknown).starts_with("HTTP/1.1 299 <unknown-status>\r\n"));
  ExpectSameAsBeast(unknown);
}

TEST(ResponseHeadTest, HeadAnswerKeepsTheLengthWithoutTheBody) {
  HttpResponse response = TextResponse(http::status::ok, "hello", "text/plain");
  const size_t length = response.body().size();
  response.body().clear();
  response.content_length(length);
  EXPECT_NE(ResponseHead(response).find("\r\nContent-Length: 5\r\n"), std::string::npos);
  ExpectSameAsBeast(response);
}

}  // namespace
}  // namespace countersign
