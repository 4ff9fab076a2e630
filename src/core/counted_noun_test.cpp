#include "core/counted_noun.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(CountedNounTest, OneTakesTheSingularAndEveryOtherCountThePlural) {
  EXPECT_EQ(CountedNoun(1, "webhook subscription"), "1 webhook subscription");
  EXPECT_EQ(CountedNoun(2, "webhook subscription"), "2 webhook subscriptions");
  EXPECT_EQ(CountedNoun(0, "event"), "0 events");
  EXPECT_EQ(CountedNoun(-1, "event"), "-1 events");
}

TEST(CountedNounTest, AnIrregularPluralIsGiven) {
  EXPECT_EQ(CountedNoun(1, "policy", "policies"), "1 policy");
  EXPECT_EQ(CountedNoun(3, "policy", "policies"), "3 policies");
}

}  // namespace
}  // namespace countersign
