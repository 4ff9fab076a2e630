#include "cli/wait_progress.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

boost::json::object Request(const std::string& decisions, int quorum = 2) {
  return boost::json::parse(
             R"({"id": "req_1", "status": "pending", "approvers": ["alice", "bob"],
                 "quorum": )" +
             std::to_string(quorum) +
             R"(, "deny_threshold": 1, "deadline_at": "2026-11-21T09:44:18.042Z",
                 "decisions": [)" +
             decisions + "]}")
      .as_object();
}

constexpr const char* kAlice =
    R"({"by": "alice", "choice": "approve", "outcome": "approved", "comment": "canary is green",
        "at": "2026-11-21T09:30:00.000Z"})";
constexpr const char* kBob =
    R"({"by": "bob", "choice": "approve", "outcome": "approved", "at": "2026-11-21T09:31:00.000Z"})";

TEST(WaitProgressTest, StepsCountDistinctApprovalsTowardsTheQuorum) {
  const auto request = Request(std::string(kAlice) + "," + kBob);
  EXPECT_EQ(WaitProgress::Step(request, 0), R"(alice approved, 1 of 2: "canary is green")");
  EXPECT_EQ(WaitProgress::Step(request, 1), "bob approved, 2 of 2");
  EXPECT_EQ(WaitProgress::Step(request, 2), "");
}

TEST(WaitProgressTest, StepsNameDenialsEscalationsAndAnswers) {
  const auto request = Request(
      R"({"by": "carol", "choice": "hold", "outcome": "escalate"},
         {"by": "dave", "choice": "deny", "outcome": "denied"},
         {"by": "erin", "choice": "answer", "outcome": "answered"})");
  EXPECT_EQ(WaitProgress::Step(request, 0), "carol escalated");
  EXPECT_EQ(WaitProgress::Step(request, 1), "dave denied");
  EXPECT_EQ(WaitProgress::Step(request, 2), "erin answered");
}

TEST(WaitProgressTest, ReportsWhoMayDecideOnceAndEachDecisionOnceInOrder) {
  std::ostringstream out;
  WaitProgress progress(out, WaitProgress::Style::kHuman, "http://127.0.0.1:7400/");
  progress.Started(Request(""), "waiting for a decision on req_1");
  progress.Saw(Request(""));
  progress.Saw(Request(kAlice));
  // The next answer brings both decisions: only the new one is reported.
  progress.Saw(Request(std::string(kAlice) + "," + kBob));
  EXPECT_EQ(out.str(),
            "waiting for a decision on req_1\n"
            "  who may decide: alice, bob; 2 approvals needed\n"
            "  inbox: http://127.0.0.1:7400/ui/requests/req_1\n"
            "  alice approved, 1 of 2: \"canary is green\"\n"
            "  bob approved, 2 of 2\n");
}

TEST(WaitProgressTest, JsonLinesAreOneObjectEach) {
  std::ostringstream out;
  WaitProgress progress(out, WaitProgress::Style::kJson, "http://cs.example");
  progress.Started(Request(kAlice), "ignored");
  progress.Interrupted("req_1", /*kept=*/true, "");
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  const auto waiting = boost::json::parse(line).as_object();
  EXPECT_EQ(waiting.at("event").as_string(), "waiting");
  EXPECT_EQ(waiting.at("inbox_url").as_string(), "http://cs.example/ui/requests/req_1");
  EXPECT_EQ(waiting.at("quorum").as_int64(), 2);
  std::getline(lines, line);
  const auto decision = boost::json::parse(line).as_object();
  EXPECT_EQ(decision.at("event").as_string(), "decision");
  EXPECT_EQ(decision.at("by").as_string(), "alice");
  EXPECT_EQ(decision.at("approvals").as_int64(), 1);
  std::getline(lines, line);
  EXPECT_EQ(boost::json::parse(line),
            boost::json::parse(R"({"event": "interrupted", "id": "req_1", "cancelled": false})"));
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(WaitProgressTest, SilentSaysNothingButACancelThatFailed) {
  std::ostringstream out;
  WaitProgress progress(out, WaitProgress::Style::kSilent, "http://cs.example");
  progress.Started(Request(kAlice), "waiting");
  progress.Interrupted("req_1", /*kept=*/false, "");
  EXPECT_EQ(out.str(), "");
  progress.Interrupted("req_1", /*kept=*/false, "server unreachable");
  EXPECT_EQ(out.str(), "countersign: interrupted; could not cancel req_1: server unreachable\n");
}

}  // namespace
}  // namespace countersign
