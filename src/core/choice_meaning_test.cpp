#include "core/choice_meaning.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

Choice Make(std::string id, std::string label, Outcome outcome, std::string style = "default") {
  return {std::move(id), std::move(label), std::move(style), outcome};
}

TEST(ChoiceMeaningTest, TheIdsApproveAndDenyAreBoundToTheirOutcomes) {
  EXPECT_TRUE(ChoiceMeaning::Check(Make("approve", "Approve", Outcome::kApproved)).ok());
  EXPECT_TRUE(ChoiceMeaning::Check(Make("deny", "Deny", Outcome::kDenied)).ok());
  auto deny = ChoiceMeaning::Check(Make("deny", "Deny", Outcome::kApproved, "danger"));
  ASSERT_FALSE(deny.ok());
  EXPECT_EQ(deny.error().code, ErrorCode::kInvalid);
  EXPECT_NE(deny.error().message.find("'deny'"), std::string::npos);
  EXPECT_FALSE(ChoiceMeaning::Check(Make("approve", "Approve", Outcome::kDenied)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("approve", "Later", Outcome::kEscalate)).ok());
}

TEST(ChoiceMeaningTest, ALabelNamingTheOppositeOutcomeIsRefusedAsAWordInAnyCase) {
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "Deny", Outcome::kApproved)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "please REJECT", Outcome::kApproved)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "No!", Outcome::kApproved)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "Yes", Outcome::kDenied)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "allow-it", Outcome::kDenied)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "Approved", Outcome::kDenied)).ok());
  EXPECT_FALSE(ChoiceMeaning::Check(Make("x", "Approve later", Outcome::kEscalate)).ok());
  auto refused = ChoiceMeaning::Check(Make("ship", "Deny", Outcome::kApproved));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("'ship'"), std::string::npos);
  EXPECT_NE(refused.error().message.find("'Deny'"), std::string::npos);
  // Inside another word, or another language's letters, it is not the word.
  EXPECT_TRUE(ChoiceMeaning::Check(Make("x", "Knowledge", Outcome::kApproved)).ok());
  EXPECT_TRUE(ChoiceMeaning::Check(Make("x", "Yesterday", Outcome::kDenied)).ok());
  EXPECT_TRUE(ChoiceMeaning::Check(Make("x", "Not sure", Outcome::kEscalate)).ok());
}

TEST(ChoiceMeaningTest, TheBuiltInChoicesPass) {
  for (Kind kind : {Kind::kApproval, Kind::kVerification, Kind::kQuestion}) {
    for (const Choice& c : DefaultChoices(kind)) {
      EXPECT_TRUE(ChoiceMeaning::Check(c).ok()) << c.id;
      EXPECT_EQ(ChoiceMeaning::Caption(c), c.label) << c.id;
      EXPECT_EQ(ChoiceMeaning::Style(c), c.style) << c.id;
    }
  }
}

TEST(ChoiceMeaningTest, TheColourComesFromTheOutcomeAndMayOnlyBeMadeNeutral) {
  EXPECT_EQ(ChoiceMeaning::Style(Make("x", "Ship", Outcome::kApproved, "danger")), "primary");
  EXPECT_EQ(ChoiceMeaning::Style(Make("x", "Hold", Outcome::kDenied, "primary")), "danger");
  EXPECT_EQ(ChoiceMeaning::Style(Make("x", "Hold", Outcome::kDenied, "bogus")), "danger");
  EXPECT_EQ(ChoiceMeaning::Style(Make("x", "Later", Outcome::kEscalate, "danger")), "default");
  EXPECT_EQ(ChoiceMeaning::Style(Make("x", "Ship", Outcome::kApproved, "default")), "default");
}

TEST(ChoiceMeaningTest, ACustomLabelIsShownWithItsOutcomeInWords) {
  EXPECT_EQ(ChoiceMeaning::Caption(Make("x", "Ship it", Outcome::kApproved)),
            "Ship it \u2014 approves");
  EXPECT_EQ(ChoiceMeaning::Caption(Make("x", "Hold", Outcome::kDenied)), "Hold \u2014 denies");
  EXPECT_EQ(ChoiceMeaning::Caption(Make("x", "Ask a lead", Outcome::kEscalate)),
            "Ask a lead \u2014 escalates");
  EXPECT_EQ(ChoiceMeaning::Caption(Make("x", "Approve for 1h", Outcome::kApproved)),
            "Approve for 1h");
  // Naming two outcomes says nothing clear: the outcome is spelled out.
  EXPECT_EQ(ChoiceMeaning::Caption(Make("x", "Escalate, don't deny", Outcome::kDenied)),
            "Escalate, don't deny \u2014 denies");
}

}  // namespace
}  // namespace countersign
