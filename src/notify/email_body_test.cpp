#include "notify/email_body.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using namespace std::chrono_literals;

Request Pending() {
  Request r;
  r.id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
  r.action = "deploy_staging";
  r.title = "Deploy v2.0";
  r.requester = "ci-bot";
  r.choices = DefaultChoices(Kind::kApproval);
  r.deadline_at = TimePoint(1795255500s);
  return r;
}

const std::vector<EmailLink> kLinks = {{"Approve", "https://cs.example/l/A", "primary"},
                                       {"Deny", "https://cs.example/l/D", "danger"}};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(EmailBodyTest, BothPartsSayTheApprovalPageOffersTheRequestsStandingApprovals) {
  Request r = Pending();
  r.grant_options = {{"session", 1h}, {"requester", 24h * 30}};
  const EmailBody body = RenderEmailBody(r, "request.created", kLinks, "alice", "");
  const std::string words =
      "The approval page also lets you choose a standing approval instead of approving once: "
      "\u201cApprove for this session (1 h)\u201d or \u201cAlways approve deploy_staging for "
      "ci-bot (30 days)\u201d.";
  EXPECT_TRUE(Contains(body.text, words)) << body.text;
  EXPECT_TRUE(Contains(body.html, "<p>" + words + "</p>")) << body.html;
}

TEST(EmailBodyTest, NoStandingApprovalIsMentionedWhenTheRequestOffersNoneOrHasNoLinks) {
  Request r = Pending();
  EXPECT_FALSE(Contains(RenderEmailBody(r, "request.created", kLinks, "alice", "").text,
                        "standing approval"));
  r.grant_options = {{"requester", 24h}};
  r.quorum = 2;  // this recipient's approval would not complete it: no grant to choose
  EXPECT_FALSE(Contains(RenderEmailBody(r, "request.created", kLinks, "alice", "").text,
                        "standing approval"));
  r.quorum = 1;
  const EmailBody no_links = RenderEmailBody(r, "request.created", {}, "", "");
  EXPECT_FALSE(Contains(no_links.text, "standing approval"));
  EXPECT_FALSE(Contains(no_links.html, "standing approval"));
  EXPECT_TRUE(Contains(RenderEmailBody(r, "request.created", kLinks, "alice", "").text,
                       "\u201cAlways approve deploy_staging for ci-bot (1 day)\u201d."));
}

}  // namespace
}  // namespace countersign
