#include "auth/id_token_verifier.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <boost/json/parse.hpp>

#include "auth/base64url.hpp"
#include "core/sha256.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

constexpr size_t kEs256SignatureBytes = 64;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

struct Parts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
};

std::optional<Parts> Split(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1)};
}

Result<json::object> DecodeObject(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes)
    return Error::Unauthorized(std::string("the ID token's ") + what + " is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) {
    return Error::Unauthorized(std::string("the ID token's ") + what + " is not a JSON object");
  }
  return std::move(v.get_object());
}

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A NumericDate claim (seconds since the epoch), whole or not; nullopt when absent or not a
// number.
std::optional<double> Seconds(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
  return std::nullopt;
}

// The header's algorithm, checked: "RS256" or "ES256".
Result<json::object> ReadHeader(std::string_view token, Parts& parts) {
  if (token.size() > IdTokenVerifier::kMaxTokenBytes) {
    return Error::Unauthorized("the ID token is over 16 KiB");
  }
  auto split = Split(token);
  if (!split) return Error::Unauthorized("the ID token is not a compact JWS (three parts)");
  parts = *split;
  auto header = DecodeObject(parts.header, "header");
  if (!header.ok()) return header;
  const std::string alg = Text(*header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Error::Unauthorized("the ID token's alg '" + Echo(alg) +
                               "' is not accepted (RS256 or ES256 only)");
  }
  if (header->contains("crit")) {
    return Error::Unauthorized("the ID token's header names critical extensions");
  }
  return header;
}

// The DER form of an ES256 signature's raw r||s, as EVP_DigestVerify takes it.
std::optional<std::string> EcdsaDer(std::string_view raw) {
  if (raw.size() != kEs256SignatureBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySignature(const Jwk& key, std::string_view signed_text, std::string_view signature) {
  std::string der;
  if (key.type == JwkType::kEcP256) {
    auto converted = EcdsaDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size()) == 1;
}

}  // namespace

IdTokenVerifier::IdTokenVerifier(const Clock& clock, IdTokenRules rules)
    : clock_(clock), rules_(std::move(rules)) {}

Result<std::string> IdTokenVerifier::KeyIdOf(std::string_view token) {
  Parts parts;
  auto header = ReadHeader(token, parts);
  if (!header.ok()) return std::move(header).error();
  return Text(*header, "kid");
}

Result<json::object> IdTokenVerifier::Verify(std::string_view token, const Jwks& keys,
                                             std::string_view nonce) const {
  Parts parts;
  auto header = ReadHeader(token, parts);
  if (!header.ok()) return header;
  const std::string alg = Text(*header, "alg");
  const std::string kid = Text(*header, "kid");
  const Jwk* key = keys.Find(kid);
  if (!key) {
    return Error::Unauthorized("the provider's key set has no key with kid '" + Echo(kid) + "'");
  }
  if ((alg == "RS256") != (key->type == JwkType::kRsa)) {
    return Error::Unauthorized("the ID token's alg " + alg + " does not match the type of key '" +
                               Echo(kid) + "'");
  }
  auto signature = Base64UrlDecode(parts.signature);
  const std::string_view signed_text =
      std::string_view(parts.header.data(), parts.header.size() + 1 + parts.payload.size());
  if (!signature || !VerifySignature(*key, signed_text, *signature)) {
    return Error::Unauthorized("the ID token's signature does not verify with key '" + Echo(kid) +
                               "'");
  }
  auto claims = DecodeObject(parts.payload, "payload");
  if (!claims.ok()) return claims;
  CS_RETURN_IF_ERROR(CheckClaims(*claims, nonce));
  return claims;
}

Status IdTokenVerifier::CheckClaims(const json::object& claims, std::string_view nonce) const {
  const std::string iss = Text(claims, "iss");
  if (iss != rules_.issuer) {
    return Error::Unauthorized("the ID token's iss '" + Echo(iss) + "' is not the issuer " +
                               rules_.issuer);
  }
  std::vector<std::string> audiences;
  const json::value* aud = claims.if_contains("aud");
  if (aud && aud->is_string()) {
    audiences.emplace_back(aud->get_string());
  } else if (aud && aud->is_array()) {
    for (const json::value& a : aud->get_array()) {
      if (!a.is_string()) return Error::Unauthorized("the ID token's aud holds a non-string");
      audiences.emplace_back(a.get_string());
    }
  }
  if (std::find(audiences.begin(), audiences.end(), rules_.client_id) == audiences.end()) {
    return Error::Unauthorized("the ID token's aud does not include this client id");
  }
  const json::value* azp = claims.if_contains("azp");
  if (azp || audiences.size() > 1) {
    if (!azp || !azp->is_string() || azp->get_string() != rules_.client_id) {
      return Error::Unauthorized("the ID token's azp is not this client id");
    }
  }
  const double now = static_cast<double>(ToUnixMillis(clock_.Now())) / 1000.0;
  const double skew = static_cast<double>(rules_.skew.count()) / 1000.0;
  const auto exp = Seconds(claims, "exp");
  if (!exp) return Error::Unauthorized("the ID token has no numeric exp");
  if (now >= *exp + skew) return Error::Unauthorized("the ID token has expired");
  const auto iat = Seconds(claims, "iat");
  if (!iat) return Error::Unauthorized("the ID token has no numeric iat");
  if (*iat > now + skew) return Error::Unauthorized("the ID token's iat is in the future");
  const std::string got_nonce = Text(claims, "nonce");
  if (got_nonce.empty() || !ConstantTimeEquals(got_nonce, nonce)) {
    return Error::Unauthorized("the ID token's nonce is not the one this sign-in sent");
  }
  return Ok();
}

}  // namespace countersign
