#include "core/grant_option_text.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Request Offering(std::vector<GrantOption> options) {
  Request r;
  r.action = "deploy_production";
  r.requester = "ci-bot";
  r.grant_options = std::move(options);
  return r;
}

TEST(GrantOptionTextTest, DurationsReadInTheirLargestWholeUnit) {
  EXPECT_EQ(DurationInWords(hours(24 * 30)), "30 days");
  EXPECT_EQ(DurationInWords(hours(24)), "1 day");
  EXPECT_EQ(DurationInWords(hours(1)), "1 h");
  EXPECT_EQ(DurationInWords(hours(36)), "36 h");
  EXPECT_EQ(DurationInWords(minutes(90)), "90 min");
  EXPECT_EQ(DurationInWords(seconds(90)), "90 s");
  EXPECT_EQ(DurationInWords(seconds(0)), "0 s");
}

TEST(GrantOptionTextTest, LabelsNameTheDurationAndForAlwaysTheActionAndRequester) {
  const Request r = Offering({{"session", hours(1)}, {"requester", hours(24 * 30)}});
  EXPECT_EQ(GrantOptionLabel(r, r.grant_options[0]), "Approve for this session (1 h)");
  EXPECT_EQ(GrantOptionLabel(r, r.grant_options[1]),
            "Always approve deploy_production for ci-bot (30 days)");
  EXPECT_EQ(kApproveOnceLabel, "Approve once");
}

TEST(GrantOptionTextTest, AFormValueFindsOnlyAnOptionTheRequestOffers) {
  const Request r = Offering({{"session", hours(1)}, {"requester", hours(24 * 30)}});
  EXPECT_EQ(GrantOptionValue(r.grant_options[0]), "session:3600");
  EXPECT_EQ(FindGrantOption(r, "session:3600"), &r.grant_options[0]);
  EXPECT_EQ(FindGrantOption(r, "requester:2592000"), &r.grant_options[1]);
  for (std::string_view forged : {"session:7200", "requester:99999999", "tenant:3600", "session",
                                  "", ":3600", "session:3600 ", "SESSION:3600"}) {
    EXPECT_EQ(FindGrantOption(r, forged), nullptr) << forged;
  }
  EXPECT_EQ(FindGrantOption(Offering({}), "session:3600"), nullptr);
}

}  // namespace
}  // namespace countersign
