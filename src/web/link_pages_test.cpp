#include "web/link_pages.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace countersign {
namespace {

using namespace std::chrono_literals;

// 4 minutes 13 seconds before the test request's deadline.
const TimePoint kNow{1795255247s};

class LinkPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = LinkPages::Load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    pages_.emplace(std::move(loaded).value());
    request_.id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
    request_.action = "deploy_production";
    request_.title = "Deploy v2.0";
    request_.requester = "ci-bot";
    request_.choices = DefaultChoices(Kind::kApproval);
    request_.details = boost::json::parse(R"({"env":"prod","hosts":3})").as_object();
    request_.arguments = boost::json::parse(R"({"ref":"v2.0"})").as_object();
    request_.created_at = TimePoint(1795255200s);
    request_.deadline_at = TimePoint(1795255500s);
  }

  const LinkPages& pages() { return *pages_; }

  std::optional<LinkPages> pages_;
  Request request_;
  LinkOffer offer_{"approve", "alice", TimePoint(1795258800s)};
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(LinkPagesTest, ConfirmShowsTheRequestTheChoiceAndTheForm) {
  const std::string html = pages().Confirm(request_, offer_, "CSRFVALUE", kNow);
  EXPECT_TRUE(Contains(html, "<html lang=\"en\">"));
  EXPECT_TRUE(Contains(html, "Deploy v2.0"));
  EXPECT_TRUE(Contains(html, "deploy_production"));
  EXPECT_TRUE(Contains(html, "ci-bot"));
  EXPECT_TRUE(Contains(html, "<dt><bdi>env</bdi></dt><dd><bdi>prod</bdi></dd>"));
  EXPECT_TRUE(Contains(html, "<dt><bdi>hosts</bdi></dt><dd><bdi>3</bdi></dd>"));
  EXPECT_TRUE(Contains(html, "&quot;ref&quot;: &quot;v2.0&quot;"));
  EXPECT_TRUE(Contains(html, "2026-11-21 10:05 UTC"));  // the deadline
  EXPECT_TRUE(Contains(html, "<form method=\"post\">"));
  EXPECT_TRUE(Contains(html, "name=\"csrf\" value=\"CSRFVALUE\""));
  EXPECT_TRUE(Contains(html, "<textarea id=\"comment\" name=\"comment\""));
  EXPECT_TRUE(Contains(html, "<label for=\"comment\">"));
  EXPECT_TRUE(
      Contains(html, "<button type=\"submit\" class=\"primary\"><bdi>Approve</bdi></button>"));
  EXPECT_FALSE(Contains(html, ">Deny</bdi></button>"));  // one link, one choice
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_FALSE(Contains(html, "High risk"));
  EXPECT_FALSE(Contains(html, "{{"));
}

TEST_F(LinkPagesTest, ConfirmSaysHowLongIsLeftRoundedDown) {
  EXPECT_TRUE(Contains(pages().Confirm(request_, offer_, "x", kNow), "(in 4 min)"));
  const std::pair<TimePoint, const char*> cases[] = {
      {request_.deadline_at - 13min - 59s, "(in 13 min)"},
      {request_.deadline_at - 30s, "(in less than a minute)"},
      {request_.deadline_at - 2h - 5min, "(in 2 h 5 min)"},
      {request_.deadline_at - 3h, "(in 3 h)"},
      {request_.deadline_at - 24h * 3 - 1h, "(in 3 days)"},
      {request_.deadline_at + 1s, "(passed)"},
  };
  for (const auto& [now, words] : cases) {
    EXPECT_TRUE(Contains(pages().Confirm(request_, offer_, "x", now), words)) << words;
  }
}

TEST_F(LinkPagesTest, ConfirmOffersTheOtherChoicesAsLinksOfTheirOwn) {
  const std::string html = pages().Confirm(request_, offer_, "x", kNow, {{"deny", "./DENYTOKEN"}});
  EXPECT_TRUE(Contains(html, "<a href=\"./DENYTOKEN\">or <bdi>Deny</bdi> instead</a>"));
  // Still one button: the other choice is another page, never a second submit.
  EXPECT_FALSE(Contains(html, ">Deny</bdi></button>"));
  // The links come after the form's button.
  EXPECT_LT(html.find("</button>"), html.find("DENYTOKEN"));
  EXPECT_FALSE(Contains(pages().Confirm(request_, offer_, "x", kNow), "instead</a>"));
}

TEST_F(LinkPagesTest, ConfirmShowsTheArgumentsBeforeTheButtonAndArgvOnce) {
  // What `countersign exec -- ./deploy.sh --prod` sends.
  request_.arguments = boost::json::parse(R"({"argv":["./deploy.sh","--prod"]})").as_object();
  request_.details =
      boost::json::parse(R"({"command":"./deploy.sh --prod","argv":["./deploy.sh","--prod"],)"
                         R"("cwd":"/srv"})")
          .as_object();
  const std::string html = pages().Confirm(request_, offer_, "x", kNow);
  size_t argv_shown = 0;
  for (size_t at = html.find("--prod&quot;"); at != std::string::npos;
       at = html.find("--prod&quot;", at + 1)) {
    ++argv_shown;
  }
  EXPECT_EQ(argv_shown, 1u) << html;
  EXPECT_TRUE(Contains(html, "<dt><bdi>cwd</bdi></dt><dd><bdi>/srv</bdi></dd>"));
  EXPECT_TRUE(Contains(html, "<dt><bdi>command</bdi></dt>"));
  EXPECT_LT(html.find("class=\"arguments\""), html.find("<button"));
  EXPECT_LT(html.find("<button"), html.find("<dt><bdi>cwd</bdi></dt>"));
}

TEST_F(LinkPagesTest, TheSummarySaysDecisionsSoFarWhilePendingAndDecisionsOnceResolved) {
  request_.decisions.push_back(
      {"dec_1", request_.id, "alice", "approve", Outcome::kApproved, "", "", {}, {}});
  EXPECT_TRUE(Contains(pages().Summary(request_).str(), "<h3>Decisions so far</h3>"));
  request_.status = RequestStatus::kApproved;
  request_.resolved_by = {"alice"};
  const std::string resolved = pages().AlreadyResolved(request_);
  EXPECT_TRUE(Contains(resolved, "<h3>Decisions</h3>"));
  EXPECT_FALSE(Contains(resolved, "so far"));
}

// Inside its <bdi> a right-to-left override would still show "invoice\u202Efdp.exe" as
// "invoiceexe.pdf": the page names it instead.
TEST_F(LinkPagesTest, BidiControlsInRequestTextAreNamedAndIsolated) {
  request_.title = "Send invoice\u202Efdp.exe";
  request_.details = {{"file", "a\u2067b"}};
  const std::string html = pages().Confirm(request_, offer_, "CSRFVALUE", kNow);
  EXPECT_TRUE(Contains(html, "<bdi>Send invoice[RLO]fdp.exe</bdi>"));
  EXPECT_TRUE(Contains(html, "<dd><bdi>a[RLI]b</bdi></dd>"));
  EXPECT_FALSE(Contains(html, "\u202E"));
  EXPECT_FALSE(Contains(html, "\u2067"));
}

TEST_F(LinkPagesTest, HighRiskRequestsCarryANotice) {
  request_.risk = "high";
  const std::string html = pages().Confirm(request_, offer_, "x", kNow);
  EXPECT_TRUE(Contains(html, "High risk"));
}

TEST_F(LinkPagesTest, QuestionsAskForAnAnswerInsteadOfAComment) {
  request_.kind = Kind::kQuestion;
  request_.choices = DefaultChoices(Kind::kQuestion);
  const std::string html =
      pages().Confirm(request_, {"answer", "alice", offer_.expires_at}, "x", kNow);
  EXPECT_TRUE(Contains(html, "name=\"answer\""));
  EXPECT_TRUE(Contains(html, "required"));
  EXPECT_FALSE(Contains(html, "name=\"comment\""));
}

TEST_F(LinkPagesTest, EveryValueFromTheRequestIsEscaped) {
  request_.title = "<script>alert(1)</script>";
  request_.requester = "\"><img src=x onerror=alert(2)>";
  request_.details = boost::json::parse(R"({"<k>":"<v>"})").as_object();
  request_.arguments = boost::json::parse(R"({"cmd":"</pre><script>x</script>"})").as_object();
  request_.choices[0].label = "<b>Approve</b>";
  request_.choices[0].style = "\" onclick=\"x";
  const std::string html =
      pages().Confirm(request_, {"approve", "<alice>", offer_.expires_at}, "\"csrf\"", kNow);
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_FALSE(Contains(html, "<img"));
  EXPECT_FALSE(Contains(html, "<b>Approve"));
  EXPECT_FALSE(Contains(html, "<alice>"));
  EXPECT_FALSE(Contains(html, "<k>"));
  EXPECT_FALSE(Contains(html, "\" onclick"));
  EXPECT_TRUE(Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST_F(LinkPagesTest, RecordedSaysWhatWasRecordedAndTheStatus) {
  request_.status = RequestStatus::kApproved;
  request_.resolved_by = {"alice"};
  const std::string html = pages().Recorded(request_, offer_);
  EXPECT_TRUE(Contains(html, "Approve"));
  EXPECT_TRUE(Contains(html, "alice"));
  EXPECT_TRUE(Contains(html, "The request is approved (decided by alice)."));
  EXPECT_FALSE(Contains(html, "<form"));
}

TEST_F(LinkPagesTest, RecordedOnAQuorumRequestShowsProgress) {
  request_.quorum = 2;
  request_.decisions.push_back(
      {"dec_1", request_.id, "alice", "approve", Outcome::kApproved, "fine", "", {}, {}});
  const std::string html = pages().Recorded(request_, offer_);
  EXPECT_TRUE(Contains(html, "still pending: 1 of 2 approvals"));
  EXPECT_TRUE(Contains(html, "fine"));
}

TEST_F(LinkPagesTest, AnApproveLinkOnARequestWithGrantOptionsHasOneButtonPerWayOfApproving) {
  request_.action = "deploy_staging";
  request_.grant_options = {{"session", 1h}, {"requester", 24h * 30}};
  const std::string html = pages().Confirm(request_, offer_, "x", kNow);
  const std::string once =
      "<button type=\"submit\" name=\"grant\" value=\"\" class=\"primary\"><bdi>Approve "
      "once</bdi></button>";
  const std::string session =
      "<button type=\"submit\" name=\"grant\" value=\"session:3600\" class=\"default\">"
      "<bdi>Approve for this session (1 h)</bdi></button>";
  const std::string always =
      "<button type=\"submit\" name=\"grant\" value=\"requester:2592000\" "
      "class=\"default\"><bdi>Always approve deploy_staging for ci-bot (30 days)</bdi></button>";
  ASSERT_TRUE(Contains(html, once)) << html;
  ASSERT_TRUE(Contains(html, session));
  ASSERT_TRUE(Contains(html, always));
  // "Once" comes first, so Enter in a field of the form grants nothing.
  EXPECT_LT(html.find(once), html.find(session));
  EXPECT_LT(html.find(session), html.find(always));
  EXPECT_FALSE(Contains(html, "<bdi>Approve</bdi></button>"));
  // A deny link offers no grant.
  const std::string deny =
      pages().Confirm(request_, {"deny", "alice", offer_.expires_at}, "x", kNow);
  EXPECT_FALSE(Contains(deny, "name=\"grant\""));
  EXPECT_TRUE(Contains(deny, "<bdi>Deny</bdi></button>"));
}

TEST_F(LinkPagesTest, RecordedSaysWhatWasGrantedOrWhyNothingWas) {
  request_.status = RequestStatus::kApproved;
  const std::string granted =
      pages().Recorded(request_, offer_, "Also granted: <x> until then.", true);
  EXPECT_TRUE(Contains(granted, "<p class=\"notice ok\" role=\"status\">Also granted: &lt;x&gt;"));
  const std::string not_granted =
      pages().Recorded(request_, offer_, "No standing approval.", false);
  EXPECT_TRUE(Contains(not_granted, "<p class=\"notice warn\" role=\"status\">No standing"));
  EXPECT_FALSE(Contains(pages().Recorded(request_, offer_), "notice warn"));
}

TEST_F(LinkPagesTest, StatePagesRenderWithoutAForm) {
  request_.status = RequestStatus::kDenied;
  request_.resolved_by = {"bob"};
  const std::vector<std::pair<std::string, std::string>> pages_and_words = {
      {pages().InvalidLink(), "This link is not valid"},
      {pages().UnknownChoice(request_, {"perhaps", "alice", offer_.expires_at}), "perhaps"},
      {pages().UnknownRequest(), "Request not found"},
      {pages().ExpiredLink(request_, offer_), "This link has expired"},
      {pages().AlreadyResolved(request_), "The request is denied (decided by bob)."},
      {pages().NotAllowed(request_, "the requester may not decide its own request"),
       "the requester may not decide its own request"},
      {pages().NotRecorded(request_, "comment is too long"), "comment is too long"},
      {pages().FormExpired(), "This form has expired, open the link again"},
      {pages().GrantNotOffered(request_, "no such option"), "This choice is not offered"},
      {pages().Unavailable(), "try again"},
  };
  for (const auto& [html, words] : pages_and_words) {
    EXPECT_TRUE(Contains(html, words)) << words;
    EXPECT_TRUE(Contains(html, "<!DOCTYPE html>"));
    EXPECT_FALSE(Contains(html, "<form")) << words;
    EXPECT_FALSE(Contains(html, "{{")) << words;
  }
}

}  // namespace
}  // namespace countersign
