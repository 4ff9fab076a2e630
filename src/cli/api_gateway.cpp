#include "cli/api_gateway.hpp"

#include "cli/query_string.hpp"

namespace countersign {
namespace {

// Allowance on top of a long-poll for its answer to arrive.
constexpr std::chrono::seconds kLongPollSlack(15);
constexpr std::chrono::seconds kReadTimeout(30);

std::string RequestPath(const std::string& id) { return "/v1/requests/" + PercentEncode(id); }

}  // namespace

Result<boost::json::object> ApiGateway::CreateRequest(const boost::json::object& body) {
  const ApiClient api = api_;
  return api.Post("/v1/requests", body);
}

Result<boost::json::object> ApiGateway::GetRequest(const std::string& id) {
  const ApiClient api = api_;
  return api.Get(RequestPath(id), kReadTimeout);
}

Result<boost::json::object> ApiGateway::WaitForRequest(const std::string& id,
                                                       std::chrono::seconds timeout) {
  const ApiClient api = api_;
  const std::string target =
      RequestPath(id) + "/wait" + QueryString().Add("timeout", timeout.count()).str();
  return api.Get(target, timeout + kLongPollSlack);
}

Result<boost::json::object> ApiGateway::CancelRequest(const std::string& id,
                                                      const std::string& reason) {
  const ApiClient api = api_;
  return api.Post(RequestPath(id) + "/cancel", boost::json::object{{"reason", reason}});
}

Result<boost::json::object> ApiGateway::ConsumeReceipt(const std::string& receipt) {
  const ApiClient api = api_;
  return api.Post("/v1/receipts/consume", boost::json::object{{"receipt", receipt}});
}

}  // namespace countersign
