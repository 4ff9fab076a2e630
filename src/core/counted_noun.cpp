#include "core/counted_noun.hpp"

namespace countersign {

std::string CountedNoun(int64_t count, std::string_view singular, std::string_view plural) {
  std::string out = std::to_string(count) + " ";
  if (count == 1) return out.append(singular);
  if (plural.empty()) return out.append(singular).append("s");
  return out.append(plural);
}

}  // namespace countersign
