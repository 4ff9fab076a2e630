#include "auth/jwks.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <boost/json/parse.hpp>

#include "auth/base64url.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

constexpr int kMinRsaBits = 2048;
constexpr size_t kMaxRsaModulusBytes = 1024;  // 8192 bits
constexpr size_t kP256CoordinateBytes = 32;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The key built by EVP_PKEY_fromdata for `type` ("RSA", "EC") from `params`; null on failure.
std::shared_ptr<EVP_PKEY> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  std::shared_ptr<EVP_PKEY> out(key, EVP_PKEY_free);
  // A public key that is not a valid one (an EC point off the curve) is refused here.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new(key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return out;
}

Result<std::shared_ptr<EVP_PKEY>> RsaKey(const json::object& jwk, const std::string& name) {
  auto n = Base64UrlDecode(Text(jwk, "n"));
  auto e = Base64UrlDecode(Text(jwk, "e"));
  if (!n || !e || n->empty() || e->empty() || n->size() > kMaxRsaModulusBytes || e->size() > 8) {
    return Error::Invalid(name + ": an RSA key needs base64url n and e");
  }
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                                                 static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                                                 static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return Error::Internal("out of memory reading " + name);
  if (BN_num_bits(bn_n.get()) < kMinRsaBits) {
    return Error::Invalid(name + ": an RSA key must have at least 2048 bits");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return Error::Internal("out of memory reading " + name);
  }
  auto key = FromData("RSA", bld.get());
  if (!key) return Error::Invalid(name + ": not a usable RSA public key");
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> EcKey(const json::object& jwk, const std::string& name) {
  if (Text(jwk, "crv") != "P-256") {
    return Error::Invalid(name + ": only the P-256 curve is supported");
  }
  auto x = Base64UrlDecode(Text(jwk, "x"));
  auto y = Base64UrlDecode(Text(jwk, "y"));
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
    return Error::Invalid(name + ": a P-256 key needs 32-byte base64url x and y");
  }
  const std::string point = std::string(1, '\x04') + *x + *y;  // uncompressed
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return Error::Internal("out of memory reading " + name);
  }
  auto key = FromData("EC", bld.get());
  if (!key) return Error::Invalid(name + ": not a point on P-256");
  return key;
}

}  // namespace

Result<Jwks> Jwks::Parse(std::string_view text) {
  if (text.size() > kMaxBytes) return Error::Invalid("the key set is over 64 KiB");
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return Error::Invalid("the key set is not a JSON object");
  const json::value* keys = doc.get_object().if_contains("keys");
  if (!keys || !keys->is_array()) return Error::Invalid("the key set has no \"keys\" array");
  if (keys->get_array().size() > kMaxKeys) return Error::Invalid("the key set has over 64 keys");
  Jwks out;
  size_t index = 0;
  for (const json::value& item : keys->get_array()) {
    const std::string name = "keys[" + std::to_string(index++) + "]";
    if (!item.is_object()) return Error::Invalid(name + " is not an object");
    const json::object& jwk = item.get_object();
    const std::string kty = Text(jwk, "kty");
    const std::string use = Text(jwk, "use");
    const std::string alg = Text(jwk, "alg");
    if (!use.empty() && use != "sig") continue;
    Jwk key;
    key.kid = Text(jwk, "kid");
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      auto made = RsaKey(jwk, name);
      if (!made.ok()) continue;  // one unusable key does not spoil the others
      key.type = JwkType::kRsa;
      key.key = std::move(made).value();
    } else if (kty == "EC" && (alg.empty() || alg == "ES256")) {
      auto made = EcKey(jwk, name);
      if (!made.ok()) continue;
      key.type = JwkType::kEcP256;
      key.key = std::move(made).value();
    } else {
      continue;  // a type or algorithm the verifier never accepts
    }
    out.keys_.insert_or_assign(key.kid, std::move(key));
  }
  return out;
}

const Jwk* Jwks::Find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

}  // namespace countersign
