#include "auth/receipt_id.hpp"

#include <openssl/rand.h>

namespace countersign {

std::string NewReceiptId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "rct_";
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

}  // namespace countersign
