#include "http/json_body_memo.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"

namespace countersign {
namespace {

std::shared_ptr<const Request> MakeRequest(RequestStatus status) {
  Request r;
  r.id = "req_1";
  r.action = "deploy_production";
  r.title = "Deploy v2.0";
  r.status = status;
  return std::make_shared<const Request>(std::move(r));
}

TEST(JsonBodyMemoTest, TheSameRequestObjectIsSerialisedOnce) {
  JsonBodyMemo memo(8);
  auto request = MakeRequest(RequestStatus::kPending);
  auto first = memo.Body(request);
  EXPECT_EQ(*first, boost::json::serialize(RequestToJson(*request)) + "\n");
  EXPECT_EQ(memo.Body(request), first) << "a second read should reuse the body";
}

TEST(JsonBodyMemoTest, ANewStateOfTheSameRequestGetsItsOwnBody) {
  JsonBodyMemo memo(8);
  auto pending = MakeRequest(RequestStatus::kPending);
  auto pending_body = memo.Body(pending);
  auto approved = MakeRequest(RequestStatus::kApproved);
  auto approved_body = memo.Body(approved);
  EXPECT_NE(*approved_body, *pending_body);
  EXPECT_NE(approved_body->find("\"status\":\"approved\""), std::string::npos);
}

TEST(JsonBodyMemoTest, AFreedRequestsEntryIsNeverServedForAnotherObject) {
  JsonBodyMemo memo(8);
  {
    auto gone = MakeRequest(RequestStatus::kPending);
    memo.Body(gone);
  }
  for (int i = 0; i < 100; ++i) {
    auto approved = MakeRequest(RequestStatus::kApproved);
    EXPECT_NE(memo.Body(approved)->find("\"status\":\"approved\""), std::string::npos);
  }
}

}  // namespace
}  // namespace countersign
