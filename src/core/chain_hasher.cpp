#include "core/chain_hasher.hpp"

#include <array>
#include <cstring>

#include <openssl/evp.h>

#include "core/sha256.hpp"

namespace countersign {

ChainHasher::ChainHasher()
    : sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context_(EVP_MD_CTX_new()) {
  text_.reserve(1024);
}

ChainHasher::~ChainHasher() {
  EVP_MD_CTX_free(context_);
  EVP_MD_free(sha256_);
}

namespace {

// The two lower-case hex digits of every byte value, so a digest is spelled 2 bytes at a time.
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (int b = 0; b < 256; ++b) {
    pairs[2 * b] = kHex[b >> 4];
    pairs[2 * b + 1] = kHex[b & 15];
  }
  return pairs;
}();

}  // namespace

bool ChainHasher::Matches(const EventView& event, std::string_view hash) {
  if (hash.size() != 2 * 32) return false;  // no lower-case hex digest is any other length
  text_.assign(event.prev_hash);
  AppendCanonicalEvent(event, text_);
  if (sha256_ == nullptr || context_ == nullptr) return Sha256Hex(text_) == hash;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // The algorithm was fetched once, and the context is reused: the one-shot SHA256() fetches
  // the algorithm (a locked lookup) and makes a context on every call.
  if (EVP_DigestInit_ex2(context_, sha256_, nullptr) != 1 ||
      EVP_DigestUpdate(context_, text_.data(), text_.size()) != 1 ||
      EVP_DigestFinal_ex(context_, digest, &length) != 1 || length != 32) {
    return Sha256Hex(text_) == hash;
  }
  char hex[2 * 32];
  for (unsigned int i = 0; i < 32; ++i) std::memcpy(hex + 2 * i, &kHexPairs[2 * digest[i]], 2);
  return std::memcmp(hex, hash.data(), sizeof hex) == 0;
}

}  // namespace countersign
