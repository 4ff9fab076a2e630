// Fuzzes LinkSigner::Verify (auth/link_signer.hpp), what GET and POST /l/{token} run on the
// token in the URL. The first input byte picks how the rest is used:
//   even: the token as given (the MAC check, base64url and the token's shape);
//   odd:  a payload, which is signed here with the key so that Verify() reaches the payload
//         parser behind the MAC.
// Invariants: a token that verifies is what Sign() makes of its claims (one encoding per
// claim set), and base64url decoding and encoding are inverses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/base64url.hpp"
#include "auth/link_signer.hpp"

namespace {

const std::string kKey(32, 'k');

std::string SignedToken(std::string_view payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  const std::string mac(reinterpret_cast<const char*>(digest), countersign::LinkSigner::kMacBytes);
  return countersign::Base64UrlEncode(payload) + "." + countersign::Base64UrlEncode(mac);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const LinkSigner signer{std::string(kKey)};
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto decoded = Base64UrlDecode(rest)) {
    if (Base64UrlEncode(*decoded) != rest) __builtin_trap();
  }
  const std::string token = (data[0] & 1) ? SignedToken(rest) : std::string(rest);
  auto claims = signer.Verify(token);
  if (claims.ok() && signer.Sign(claims.value()) != token) __builtin_trap();
  return 0;
}
