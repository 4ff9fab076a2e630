#include "core/id_generator.hpp"

#include <openssl/rand.h>

#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string IdGenerator::Next(std::string_view prefix) {
  std::array<uint8_t, 16> bytes{};
  {
    MutexLock lock(mu_);
    int64_t ms = ToUnixMillis(clock_.Now());
    if (ms <= last_ms_) {
      // Same (or an earlier, if the clock stepped back) millisecond: keep the time and
      // increment the random part so ids stay strictly increasing.
      ms = last_ms_;
      for (int i = 9; i >= 0 && ++random_[i] == 0; --i) {
      }
    } else {
      RAND_bytes(random_.data(), static_cast<int>(random_.size()));
      random_[0] &= 0x7f;  // headroom so increments within one millisecond never wrap
      last_ms_ = ms;
    }
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
    for (int i = 0; i < 10; ++i) bytes[6 + i] = random_[i];
  }
  std::string out(prefix);
  out.reserve(prefix.size() + 26);
  // 128 bits as 26 base32 digits, most significant first: two zero bits are prepended so
  // the 130 bits split evenly into 5-bit groups.
  auto bit = [&bytes](int i) -> unsigned {  // i-th bit of the 130, counting from the top
    i -= 2;
    return i < 0 ? 0 : (bytes[i / 8] >> (7 - i % 8)) & 1;
  };
  for (int digit = 0; digit < 26; ++digit) {
    unsigned v = 0;
    for (int k = 0; k < 5; ++k) v = (v << 1) | bit(digit * 5 + k);
    out.push_back(kCrockford[v]);
  }
  return out;
}

bool IsWellFormedId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 26 || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size())) {
    bool found = false;
    for (const char* p = kCrockford; *p; ++p) found = found || *p == c;
    if (!found) return false;
  }
  return true;
}

}  // namespace countersign
