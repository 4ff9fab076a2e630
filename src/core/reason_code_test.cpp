#include "core/reason_code.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/request.hpp"

namespace countersign {
namespace {

TEST(ReasonCodeTest, EveryCodeHasADistinctNameThatParsesBack) {
  const ReasonCode codes[] = {ReasonCode::kApproved,
                              ReasonCode::kApprovedByGrant,
                              ReasonCode::kApprovedByPolicy,
                              ReasonCode::kDeniedByPerson,
                              ReasonCode::kDeniedByPolicy,
                              ReasonCode::kExpired,
                              ReasonCode::kCancelledByRequester,
                              ReasonCode::kCancelledByAdmin,
                              ReasonCode::kEscalationExhausted,
                              ReasonCode::kAnswered,
                              ReasonCode::kDismissed,
                              ReasonCode::kEnded};
  std::set<std::string> names;
  for (ReasonCode code : codes) {
    const std::string name = ReasonCodeName(code);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(ParseReasonCode(name), code) << name;
  }
  EXPECT_EQ(ReasonCodeName(ReasonCode::kNone), std::string());
  EXPECT_EQ(ParseReasonCode(""), ReasonCode::kNone);
  EXPECT_EQ(ParseReasonCode("denied"), std::nullopt);
}

TEST(ReasonCodeTest, EachTerminalStatusHasADefaultReasonAndPendingNone) {
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kPending), ReasonCode::kNone);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kApproved), ReasonCode::kApproved);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kDenied), ReasonCode::kDeniedByPerson);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kExpired), ReasonCode::kExpired);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kCancelled), ReasonCode::kCancelledByRequester);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kAnswered), ReasonCode::kAnswered);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kDismissed), ReasonCode::kDismissed);
  EXPECT_EQ(DefaultReasonFor(RequestStatus::kEnded), ReasonCode::kEnded);
}

}  // namespace
}  // namespace countersign
