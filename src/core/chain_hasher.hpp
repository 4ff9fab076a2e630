// ChainHasher: checks stored events' chain hashes one after another, reusing one text buffer
// and one SHA-256 context, so a verification of millions of events builds no strings per event.
// It hashes exactly what ChainHash() hashes (SHA-256 of prev_hash || CanonicalEvent), with the
// event's data taken as the canonical JSON text it is given. Not thread-safe: one per
// verification.
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

#include "core/event.hpp"

namespace countersign {

class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  // Whether `hash` (lower-case hex, as stored) is the chain hash of `event` given its
  // prev_hash: the same answer as ChainHash(event, data) == hash.
  bool Matches(const EventView& event, std::string_view hash);

 private:
  std::string text_;  // prev_hash || CanonicalEvent, rebuilt in place for each event
  // Fetched and made once; null if OpenSSL could not, and Sha256Hex() then does the hashing.
  EVP_MD* sha256_ = nullptr;
  EVP_MD_CTX* context_ = nullptr;
};

}  // namespace countersign
