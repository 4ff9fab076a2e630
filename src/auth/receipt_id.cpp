#include "auth/receipt_id.hpp"

#include <array>
#include <cstddef>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace countersign {
namespace {

constexpr size_t kIdBytes = 16;
// Ids' worth of random bytes drawn by one RAND_bytes call. OpenSSL's generator took about 4 us
// a call on the writer thread under load (its lock and DRBG set-up, whatever the length), and
// every approval draws a jti inside its transaction; 32 ids a call make that an eighth of a us.
constexpr size_t kIdsPerDraw = 32;

}  // namespace

std::string NewReceiptId() {
  // Per thread, so no lock; each byte is handed out once and wiped once used.
  thread_local std::array<unsigned char, kIdBytes * kIdsPerDraw> drawn;
  thread_local size_t used = drawn.size();
  if (used == drawn.size()) {
    if (RAND_bytes(drawn.data(), static_cast<int>(drawn.size())) != 1) return "";
    used = 0;
  }
  unsigned char* bytes = drawn.data() + used;
  used += kIdBytes;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "rct_";
  id.reserve(4 + 2 * kIdBytes);
  for (size_t i = 0; i < kIdBytes; ++i) {
    id.push_back(kHex[bytes[i] >> 4]);
    id.push_back(kHex[bytes[i] & 0xf]);
  }
  OPENSSL_cleanse(bytes, kIdBytes);
  return id;
}

}  // namespace countersign
