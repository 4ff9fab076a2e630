#include "auth/webhook_signature.hpp"

#include "core/sha256.hpp"

namespace countersign {

std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body) {
  std::string signed_bytes = std::to_string(timestamp);
  signed_bytes.push_back('.');
  signed_bytes.append(body);
  return "sha256=" + HmacSha256Hex(secret, signed_bytes);
}

}  // namespace countersign
