// ApiGateway: the MCP tools' GatewayApi (mcp/gateway_api.hpp) over the gateway's v1 JSON API.
//
// Each method is one HTTP call through a copy of the ApiClient (which is not thread-safe), so
// tool calls on several threads share nothing. A long-poll's HTTP deadline is its `timeout`
// plus a margin for the answer to arrive. Thread-safe.
#pragma once

#include "cli/api_client.hpp"
#include "mcp/gateway_api.hpp"

namespace countersign {

class ApiGateway final : public GatewayApi {
 public:
  explicit ApiGateway(ApiClient api) : api_(std::move(api)) {}

  Result<boost::json::object> CreateRequest(const boost::json::object& body) override;
  Result<boost::json::object> GetRequest(const std::string& id) override;
  Result<boost::json::object> WaitForRequest(const std::string& id,
                                             std::chrono::seconds timeout) override;
  Result<boost::json::object> CancelRequest(const std::string& id,
                                            const std::string& reason) override;
  Result<boost::json::object> ConsumeReceipt(const std::string& receipt) override;

 private:
  const ApiClient api_;
};

}  // namespace countersign
