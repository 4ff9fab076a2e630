#include "auth/receipt_verifier.hpp"

#include <memory>

#include <openssl/evp.h>
#include <boost/json/parse.hpp>

#include "auth/base64url.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr int64_t kLastSecondOf9999 = 253402300799;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

ReceiptVerdict Fail(ReceiptFault fault, std::string reason) {
  ReceiptVerdict verdict;
  verdict.fault = fault;
  verdict.reason = std::move(reason);
  return verdict;
}

std::optional<std::string> StringMember(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// A JSON object from base64url text; nullopt when either layer is malformed.
std::optional<boost::json::object> DecodeJsonObject(std::string_view part) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

std::string TimeText(int64_t unix_seconds) {
  // Only years 1970 to 9999 as dates: the rest is not a date anyone meant, and would overflow.
  if (unix_seconds < 0 || unix_seconds > kLastSecondOf9999) return std::to_string(unix_seconds);
  return FormatTime(FromUnixMillis(unix_seconds * 1000)) + " (" + std::to_string(unix_seconds) +
         ")";
}

// The name of the first claim missing or of the wrong type, or "" when all are right.
std::string BadClaim(const boost::json::object& claims) {
  for (const char* name : {"request_id", "tenant", "action", "arguments_sha256", "outcome"}) {
    const auto* v = claims.if_contains(name);
    if (v == nullptr || !v->is_string()) return name;
  }
  const auto* approvers = claims.if_contains("approvers");
  if (approvers == nullptr || !approvers->is_array()) return "approvers";
  for (const auto& a : approvers->get_array()) {
    if (!a.is_string()) return "approvers";
  }
  for (const char* name : {"decided_at", "exp", "iat"}) {
    const auto* v = claims.if_contains(name);
    if (v == nullptr || !v->is_int64()) return name;
  }
  // Later claims, absent from older receipts: optional, but of their type when present.
  for (const char* name : {"jti", "receipt_use"}) {
    const auto* v = claims.if_contains(name);
    if (v != nullptr && !v->is_string()) return name;
  }
  for (const char* name : {"not_after", "max_uses"}) {
    const auto* v = claims.if_contains(name);
    if (v != nullptr && !v->is_int64()) return name;
  }
  return "";
}

}  // namespace

const char* ReceiptFaultName(ReceiptFault fault) {
  switch (fault) {
    case ReceiptFault::kMalformed:
      return "malformed";
    case ReceiptFault::kUnknownKey:
      return "unknown_key";
    case ReceiptFault::kBadSignature:
      return "bad_signature";
    case ReceiptFault::kNotApproved:
      return "not_approved";
    case ReceiptFault::kExpired:
      return "expired";
    case ReceiptFault::kActionMismatch:
      return "action_mismatch";
    case ReceiptFault::kArgumentsMismatch:
      return "arguments_mismatch";
  }
  return "malformed";
}

Result<ReceiptVerifier> ReceiptVerifier::FromJwks(const boost::json::value& jwks) {
  const auto* root = jwks.if_object();
  const auto* keys = root != nullptr ? root->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return Error::Invalid("not a JWKS: expected an object with a \"keys\" array");
  }
  ReceiptVerifier verifier;
  for (const auto& entry : keys->get_array()) {
    const auto* jwk = entry.if_object();
    if (jwk == nullptr) continue;
    if (StringMember(*jwk, "kty") != "OKP" || StringMember(*jwk, "crv") != "Ed25519") continue;
    if (jwk->contains("alg") && StringMember(*jwk, "alg") != "EdDSA") continue;
    if (jwk->contains("use") && StringMember(*jwk, "use") != "sig") continue;
    auto kid = StringMember(*jwk, "kid");
    auto x = StringMember(*jwk, "x");
    if (!kid || !x) continue;
    auto raw = Base64UrlDecode(*x);
    if (!raw || raw->size() != kEd25519KeyBytes) continue;
    verifier.keys_.push_back(Key{std::move(*kid), std::move(*raw)});
  }
  if (verifier.keys_.empty()) return Error::Invalid("the JWKS has no Ed25519 signing key");
  return verifier;
}

ReceiptVerdict ReceiptVerifier::VerifyJws(std::string_view token) const {
  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos) {
    return Fail(ReceiptFault::kMalformed, "not a compact JWS (three base64url parts)");
  }
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);

  auto header = DecodeJsonObject(header_part);
  if (!header) return Fail(ReceiptFault::kMalformed, "the JWS header is not a JSON object");
  if (StringMember(*header, "alg") != "EdDSA") {
    return Fail(ReceiptFault::kMalformed, "the JWS header's alg is not \"EdDSA\"");
  }
  if (header->contains("crit")) {
    return Fail(ReceiptFault::kMalformed, "the JWS header has crit extensions");
  }
  auto kid = StringMember(*header, "kid");
  if (!kid) return Fail(ReceiptFault::kMalformed, "the JWS header has no kid");

  const Key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.kid == *kid) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) {
    ReceiptVerdict verdict =
        Fail(ReceiptFault::kUnknownKey, "no key with kid " + *kid + " in the JWKS");
    verdict.kid = *kid;
    return verdict;
  }

  auto signature = Base64UrlDecode(signature_part);
  if (!signature || signature->size() != kEd25519SignatureBytes) {
    ReceiptVerdict verdict =
        Fail(ReceiptFault::kBadSignature, "the signature is not 64 bytes of base64url");
    verdict.kid = *kid;
    return verdict;
  }
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key->public_key.data()),
      key->public_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool verified =
      pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  if (!verified) {
    ReceiptVerdict verdict =
        Fail(ReceiptFault::kBadSignature, "the signature does not verify with key " + *kid);
    verdict.kid = *kid;
    return verdict;
  }

  ReceiptVerdict verdict;
  verdict.kid = *kid;
  auto claims = DecodeJsonObject(payload_part);
  if (!claims) {
    verdict.fault = ReceiptFault::kMalformed;
    verdict.reason = "the payload is not a JSON object";
    return verdict;
  }
  verdict.claims = std::move(claims);
  return verdict;
}

ReceiptVerdict ReceiptVerifier::Verify(std::string_view token,
                                       const ReceiptExpectations& expect) const {
  ReceiptVerdict verdict = VerifyJws(token);
  if (!verdict.valid()) return verdict;
  const boost::json::object& c = *verdict.claims;
  if (std::string bad = BadClaim(c); !bad.empty()) {
    verdict.fault = ReceiptFault::kMalformed;
    verdict.reason = "the claim " + bad + " is missing or has the wrong type";
    return verdict;
  }
  const std::string outcome(c.at("outcome").get_string());
  if (outcome != "approved") {
    verdict.fault = ReceiptFault::kNotApproved;
    verdict.reason = "the outcome is \"" + outcome + "\", not \"approved\"";
    return verdict;
  }
  const int64_t exp = c.at("exp").get_int64();
  if (expect.now_unix_seconds >= exp) {
    verdict.fault = ReceiptFault::kExpired;
    verdict.reason =
        "expired at " + TimeText(exp) + "; now is " + TimeText(expect.now_unix_seconds);
    return verdict;
  }
  // The approver's own limit, never later than exp: the same rule (valid while now < it).
  if (const auto* not_after = c.if_contains("not_after");
      not_after != nullptr && expect.now_unix_seconds >= not_after->get_int64()) {
    verdict.fault = ReceiptFault::kExpired;
    verdict.reason = "not valid after " + TimeText(not_after->get_int64()) +
                     " (not_after, set by the approver); now is " +
                     TimeText(expect.now_unix_seconds);
    return verdict;
  }
  const std::string action(c.at("action").get_string());
  if (expect.action && *expect.action != action) {
    verdict.fault = ReceiptFault::kActionMismatch;
    verdict.reason = "the receipt is for action \"" + action + "\", not \"" + *expect.action + "\"";
    return verdict;
  }
  const std::string arguments_sha256(c.at("arguments_sha256").get_string());
  if (expect.arguments_sha256 && *expect.arguments_sha256 != arguments_sha256) {
    verdict.fault = ReceiptFault::kArgumentsMismatch;
    verdict.reason = "the arguments hash to " + *expect.arguments_sha256 +
                     " but the receipt approves arguments_sha256 " + arguments_sha256;
    return verdict;
  }
  return verdict;
}

}  // namespace countersign
