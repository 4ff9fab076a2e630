#include "auth/discord_verifier.hpp"

#include <charconv>
#include <cstdint>
#include <optional>

#include <openssl/evp.h>

namespace countersign {
namespace {

constexpr size_t kPublicKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;
// Unix seconds stay below 12 digits until the year 33658; anything longer is not a timestamp.
constexpr size_t kMaxTimestampDigits = 12;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes of an even-length hex string (either case); nullopt for anything else.
std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

struct DiscordVerifier::Key {
  explicit Key(EVP_PKEY* k) : pkey(k) {}
  ~Key() { EVP_PKEY_free(pkey); }
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  EVP_PKEY* pkey;
};

Result<DiscordVerifier> DiscordVerifier::Create(std::string_view public_key_hex) {
  auto raw = HexDecode(public_key_hex);
  if (!raw || raw->size() != kPublicKeyBytes) {
    return Error::Invalid("a Discord public key is 64 hex characters");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw->data()), raw->size());
  if (!pkey) return Error::Invalid("not an Ed25519 public key");
  return DiscordVerifier(std::make_shared<const Key>(pkey));
}

Status DiscordVerifier::Verify(std::string_view timestamp, std::string_view signature_hex,
                               std::string_view body, TimePoint now) const {
  if (timestamp.empty() || signature_hex.empty()) {
    return Error::Unauthorized("missing X-Signature-Ed25519 or X-Signature-Timestamp");
  }
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size() || ts < 0 ||
      timestamp.size() > kMaxTimestampDigits) {
    return Error::Unauthorized("X-Signature-Timestamp is not Unix seconds");
  }
  auto signature = HexDecode(signature_hex);
  if (!signature || signature->size() != kSignatureBytes) {
    return Error::Unauthorized("X-Signature-Ed25519 is not 64 bytes of hex");
  }
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int64_t skew = now_seconds > ts ? now_seconds - ts : ts - now_seconds;
  if (skew > kWindow.count()) {
    return Error::Unauthorized("X-Signature-Timestamp is more than 300 s from now");
  }

  std::string message;
  message.reserve(timestamp.size() + body.size());
  message.append(timestamp).append(body);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally: no digest, one shot.
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1) {
    return Error::Unauthorized("cannot set up Ed25519 verification");
  }
  const int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (verified != 1) return Error::Unauthorized("X-Signature-Ed25519 does not verify");
  return Ok();
}

}  // namespace countersign
