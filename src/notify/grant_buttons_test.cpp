#include "notify/grant_buttons.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "notify/chat_text.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

Request Fixture() {
  Request r;
  r.id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
  r.action = "deploy_staging";
  r.requester = "ci-bot";
  r.session = "sess-1";
  r.choices = DefaultChoices(Kind::kApproval);
  r.grant_options = {{"session", 1h}, {"requester", 30 * 24h}};
  return r;
}

TEST(GrantButtonsTest, APendingApprovalWithOptionsOffersThemWithItsApproveChoice) {
  Request r = Fixture();
  EXPECT_EQ(GrantChoiceIndex(r), 0u);
  // The approve choice need not come first.
  std::swap(r.choices[0], r.choices[1]);
  EXPECT_EQ(GrantChoiceIndex(r), 1u);
}

TEST(GrantButtonsTest, NoGrantButtonsForHighRiskResolvedOptionlessOrQuorumRequests) {
  Request high = Fixture();
  high.risk = "high";
  EXPECT_FALSE(GrantChoiceIndex(high));
  Request none = Fixture();
  none.grant_options.clear();
  EXPECT_FALSE(GrantChoiceIndex(none));
  Request approved = Fixture();
  approved.status = RequestStatus::kApproved;
  EXPECT_FALSE(GrantChoiceIndex(approved));
  Request question = Fixture();
  question.kind = Kind::kQuestion;
  EXPECT_FALSE(GrantChoiceIndex(question));
  // A grant comes with the approval that resolves the request: not the first of two.
  Request quorum = Fixture();
  quorum.quorum = 2;
  EXPECT_FALSE(GrantChoiceIndex(quorum));
  Decision first;
  first.principal = "alice";
  first.outcome = Outcome::kApproved;
  quorum.decisions.push_back(first);
  EXPECT_EQ(GrantChoiceIndex(quorum), 0u);
}

TEST(GrantButtonsTest, TheLabelSaysItApprovesAndForHowLong) {
  const Request r = Fixture();
  EXPECT_EQ(GrantButtonText(r, r.grant_options[0], 75), "Approve for this session (1 h)");
  EXPECT_EQ(GrantButtonText(r, r.grant_options[1], 75),
            "Always approve deploy_staging for ci-bot (30 days)");
}

TEST(GrantButtonsTest, ALongLabelDropsTheActionThenCutsTheRequesterButKeepsTheDuration) {
  Request r = Fixture();
  r.action = std::string(120, 'a');
  EXPECT_EQ(GrantButtonText(r, r.grant_options[1], 64), "Always approve for ci-bot (30 days)");
  r.requester = std::string(100, 'b');
  const std::string text = GrantButtonText(r, r.grant_options[1], 64);
  EXPECT_EQ(TextLength(text), 64u);
  EXPECT_TRUE(text.starts_with("Always approve for bbb")) << text;
  EXPECT_TRUE(text.ends_with("\u2026 (30 days)")) << text;
}

TEST(GrantButtonsTest, TheHeadlineOfAnApprovalSaysWhatWasGranted) {
  Request r = Fixture();
  r.status = RequestStatus::kApproved;
  r.resolved_by = {"alice"};
  EXPECT_EQ(HeadlineWithGrant(r, "", GrantOption{"session", 1h}),
            "Approved by alice \u2014 and approved for this session for 1 h");
  EXPECT_EQ(HeadlineWithGrant(r, "", GrantOption{"requester", 30 * 24h}),
            "Approved by alice \u2014 and always approved for ci-bot for 30 days");
  EXPECT_EQ(HeadlineWithGrant(r, "", std::nullopt), "Approved by alice");
  r.status = RequestStatus::kDenied;
  EXPECT_EQ(HeadlineWithGrant(r, "", GrantOption{"session", 1h}), "Denied by alice");
}

TEST(GrantButtonsTest, ThePayloadRoundTripsAndAnythingElseNamesNoGrant) {
  const GrantOption granted{"requester", 30 * 24h};
  const std::string payload = boost::json::serialize(GrantedPayload(granted));
  EXPECT_EQ(payload, R"({"granted":{"scope":"requester","ttl_seconds":2592000}})");
  EXPECT_EQ(GrantedFromPayload(payload), granted);
  for (const char* other :
       {"", "{}", "[]", "not json", R"({"granted":1})", R"({"granted":{"scope":"session"}})",
        R"({"granted":{"scope":"session","ttl_seconds":0}})",
        R"({"granted":{"scope":1,"ttl_seconds":60}})"}) {
    EXPECT_FALSE(GrantedFromPayload(other)) << other;
  }
}

}  // namespace
}  // namespace countersign
