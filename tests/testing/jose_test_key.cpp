#include "testing/jose_test_key.hpp"

#include <cstdlib>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <boost/json/serialize.hpp>

namespace countersign::testing {
namespace {

namespace json = boost::json;

std::string B64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const unsigned v =
        static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string Bn(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) std::abort();
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

JoseTestKey JoseTestKey::Rsa(std::string kid) {
  return JoseTestKey(std::shared_ptr<EVP_PKEY>(
                         EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}), EVP_PKEY_free),
                     false, std::move(kid));
}

JoseTestKey JoseTestKey::Ec(std::string kid) {
  return JoseTestKey(
      std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free),
      true, std::move(kid));
}

json::object JoseTestKey::Jwk() const {
  if (!ec_) {
    return {{"kty", "RSA"},
            {"kid", kid_},
            {"use", "sig"},
            {"n", B64Url(Bn(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", B64Url(Bn(key_.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }
  unsigned char point[65];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                      &len) != 1 ||
      len != 65) {
    std::abort();
  }
  const std::string raw(reinterpret_cast<const char*>(point), len);
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"kid", kid_},
          {"x", B64Url(raw.substr(1, 32))},
          {"y", B64Url(raw.substr(33, 32))}};
}

std::string JoseTestKey::Sign(std::string_view text) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, text.size()) != 1) {
    std::abort();
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     text.size()) != 1) {
    std::abort();
  }
  sig.resize(len);
  if (!ec_) return sig;
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  if (!parsed) std::abort();
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(parsed), out, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(parsed), out + 32, 32);
  ECDSA_SIG_free(parsed);
  return raw;
}

std::string JoseTestKey::Token(const json::object& claims, std::string alg) const {
  if (alg.empty()) alg = ec_ ? "ES256" : "RS256";
  const json::object header{{"alg", alg}, {"kid", kid_}, {"typ", "JWT"}};
  const std::string text = B64Url(json::serialize(header)) + "." + B64Url(json::serialize(claims));
  return text + "." + B64Url(Sign(text));
}

}  // namespace countersign::testing
