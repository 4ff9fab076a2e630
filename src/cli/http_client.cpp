#include "cli/http_client.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "cli/http_exchange.hpp"

namespace countersign {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Listings can be long; anything beyond this is not a countersign answer.
constexpr std::uint64_t kBodyLimit = 64 * 1024 * 1024;

}  // namespace

HttpClient::HttpClient(std::string base_url, std::string token, std::string ca_file)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      ca_file_(std::move(ca_file)),
      url_(ParseHttpUrl(base_url_, "server URL")) {}

Result<HttpResponse> HttpClient::Call(std::string_view method, std::string_view target,
                                      const std::string* json_body,
                                      std::chrono::seconds timeout) const {
  if (!url_.ok()) return url_.error();
  const auto deadline = SteadyClock::now() + timeout;
  auto remaining = [deadline] {
    return std::max(SteadyClock::duration::zero(), deadline - SteadyClock::now());
  };
  HttpExchange::Headers headers{{"Accept", "application/json"}};
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  if (json_body != nullptr) headers.emplace_back("Content-Type", "application/json");

  HttpExchange exchange(*url_, "countersign at " + base_url_, ca_file_);
  CS_RETURN_IF_ERROR(exchange.Send(method, target, headers, json_body, remaining()));
  auto head = exchange.ReadHead(remaining());
  if (!head.ok()) return std::move(head).error();
  auto body = exchange.ReadBody(kBodyLimit, remaining());
  if (!body.ok()) return std::move(body).error();
  HttpResponse response;
  response.status = head->status;
  response.headers = std::move(head->headers);
  response.body = std::move(body).value();
  return response;
}

}  // namespace countersign
