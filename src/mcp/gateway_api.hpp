// GatewayApi: the part of the gateway the MCP tools use, as an interface.
//
// `countersign mcp` implements it over the v1 JSON API (cli/api_gateway.hpp); a transport
// inside the gateway may implement it over the engine; tests use a fake. Every method
// answers the gateway's request object (docs/api.md, "The request object"), or an Error
// whose code follows the HTTP status (Error::Unavailable when the gateway cannot be
// reached). Implementations must be safe to call from several threads at once: every tool
// call runs on its own thread.
#pragma once

#include <chrono>
#include <string>

#include <boost/json/object.hpp>

#include "core/result.hpp"

namespace countersign {

class GatewayApi {
 public:
  virtual ~GatewayApi() = default;

  // POST /v1/requests with `body` (which carries its idempotency_key).
  virtual Result<boost::json::object> CreateRequest(const boost::json::object& body) = 0;

  // GET /v1/requests/{id}.
  virtual Result<boost::json::object> GetRequest(const std::string& id) = 0;

  // GET /v1/requests/{id}/wait?timeout=N: the request as soon as it is not pending, or
  // after `timeout` (at most 60 s) still pending.
  virtual Result<boost::json::object> WaitForRequest(const std::string& id,
                                                     std::chrono::seconds timeout) = 0;

  // POST /v1/requests/{id}/cancel with `reason`.
  virtual Result<boost::json::object> CancelRequest(const std::string& id,
                                                    const std::string& reason) = 0;

  // POST /v1/receipts/consume with `receipt`: one use of a single-use receipt, before the
  // approved call is made (kConflict when it was consumed already, naming who did).
  // Gateways that cannot consume refuse, so that a single-use call is never made unconsumed.
  virtual Result<boost::json::object> ConsumeReceipt(const std::string& receipt) {
    (void)receipt;
    return Error::Unavailable("this gateway cannot consume receipts");
  }
};

}  // namespace countersign
