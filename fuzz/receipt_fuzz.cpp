// Fuzzes ReceiptVerifier (auth/receipt_verifier.hpp), what `countersign receipt verify` and
// executors run on a receipt, and FromJwks, which reads GET /v1/keys. The first input byte
// picks how the rest is used:
//   0 mod 3: a receipt token as given (the compact JWS shape, base64url, the header);
//   1 mod 3: a JWS header and payload (JSON texts, split at the first newline), signed here
//            with the JWKS's key so that Verify() reaches the claim checks behind the
//            signature;
//   2 mod 3: a JWKS document for FromJwks.
// Invariant: a verdict is valid exactly when it has no fault, and then it has claims.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "auth/base64url.hpp"
#include "auth/receipt_verifier.hpp"
#include "ed25519_fuzz_key.hpp"

namespace {

const countersign::fuzz::Ed25519FuzzKey& Key() {
  static const countersign::fuzz::Ed25519FuzzKey key;
  return key;
}

const countersign::ReceiptVerifier& Verifier() {
  static const countersign::ReceiptVerifier verifier = [] {
    boost::json::object jwk{
        {"kty", "OKP"},      {"crv", "Ed25519"},
        {"kid", "fuzz-key"}, {"alg", "EdDSA"},
        {"use", "sig"},      {"x", countersign::Base64UrlEncode(Key().public_key())}};
    auto made = countersign::ReceiptVerifier::FromJwks(
        boost::json::object{{"keys", boost::json::array{std::move(jwk)}}});
    if (!made.ok()) __builtin_trap();
    return std::move(made).value();
  }();
  return verifier;
}

void Check(const countersign::ReceiptVerdict& verdict) {
  if (verdict.valid() != !verdict.fault.has_value()) __builtin_trap();
  if (verdict.valid() && !verdict.claims) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  ReceiptExpectations expect;
  expect.now_unix_seconds = 1700000000;
  switch (data[0] % 3) {
    case 0:
      Check(Verifier().Verify(rest, expect));
      break;
    case 1: {
      const size_t newline = rest.find('\n');
      const std::string_view header = rest.substr(0, newline);
      const std::string_view payload =
          newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
      const std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
      const std::string token = signing_input + "." + Base64UrlEncode(Key().Sign(signing_input));
      Check(Verifier().Verify(token, expect));
      expect.action = "deploy";
      expect.arguments_sha256 = std::string(64, '0');
      Check(Verifier().Verify(token, expect));
      break;
    }
    default: {
      boost::system::error_code ec;
      const boost::json::value jwks = boost::json::parse(rest, ec);
      if (ec) break;
      auto verifier = ReceiptVerifier::FromJwks(jwks);
      if (verifier.ok() && verifier->key_count() == 0) __builtin_trap();
      break;
    }
  }
  return 0;
}
