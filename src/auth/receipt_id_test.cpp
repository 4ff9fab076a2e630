#include "auth/receipt_id.hpp"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace countersign {
namespace {

bool IsWellFormed(const std::string& id) {
  if (id.size() != 36 || !id.starts_with("rct_")) return false;
  for (size_t i = 4; i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Ids come 32 to a draw from a per-thread buffer: many draws' worth, on two threads at once,
// are all well formed and all different.
TEST(ReceiptIdTest, IdsAreWellFormedAndUniqueAcrossDrawsAndThreads) {
  constexpr int kPerThread = 32 * 20 + 5;
  std::vector<std::string> first;
  std::vector<std::string> second;
  std::thread other([&] {
    for (int i = 0; i < kPerThread; ++i) second.push_back(NewReceiptId());
  });
  for (int i = 0; i < kPerThread; ++i) first.push_back(NewReceiptId());
  other.join();
  std::set<std::string> all;
  for (const auto* ids : {&first, &second}) {
    for (const std::string& id : *ids) {
      EXPECT_TRUE(IsWellFormed(id)) << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(2 * kPerThread));
}

}  // namespace
}  // namespace countersign
