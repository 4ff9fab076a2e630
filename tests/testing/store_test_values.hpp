// What the store tests write and how they look at it: a request, decision and event filled in
// field by field, the filters they list with, comparisons of every field, and a write that
// waits for its commit. Shared by the suites that run against SQLite and PostgreSQL.
//
// Header-only: the store tests link the store. Free functions, no state: any thread.
#pragma once

#include <future>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "core/request.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace countersign::testing {

inline const TimePoint kStoreT0 = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z

inline ::testing::AssertionResult HasText(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// As HasText, ignoring ASCII case: SQLite says "FOREIGN KEY" where PostgreSQL says
// "foreign key".
inline ::testing::AssertionResult HasTextIgnoringCase(std::string_view text,
                                                      std::string_view part) {
  const auto lower = [](std::string_view in) {
    std::string out(in);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  };
  if (lower(text).find(lower(part)) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\" (in any case)";
}

inline RequestFilter Requests(std::string tenant, int limit = 50, std::string cursor = "") {
  RequestFilter filter;
  filter.tenant = std::move(tenant);
  filter.limit = limit;
  filter.cursor = std::move(cursor);
  return filter;
}

inline EventFilter Events(std::string tenant = "", std::string request_id = "", int64_t since = 0,
                          int limit = 100) {
  EventFilter filter;
  filter.tenant = std::move(tenant);
  filter.request_id = std::move(request_id);
  filter.since = since;
  filter.limit = limit;
  return filter;
}

inline Request MakeRequest(std::string id, std::string tenant = "default") {
  Request r;
  r.id = std::move(id);
  r.tenant = std::move(tenant);
  r.kind = Kind::kApproval;
  r.action = "deploy_production";
  r.title = "Deploy v2.0";
  r.details = {{"env", "prod"}, {"nested", {{"a", 1}, {"b", {1, 2, 3}}}}};
  r.arguments = {{"ref", "v2.0"}, {"force", false}, {"replicas", 3}, {"ratio", 0.25}};
  r.arguments_sha256 = "ab12";
  r.requester = "ci-bot";
  r.session = "sess-1";
  r.choices = DefaultChoices(Kind::kApproval);
  r.approvers = {"group:sre", "alice"};
  r.quorum = 2;
  r.policy = "prod-deploys";
  r.risk = "high";
  r.created_at = kStoreT0;
  r.deadline_at = kStoreT0 + Millis(900000);
  r.on_timeout = OnTimeout::kEscalate;
  r.escalation_level = 0;
  r.notify = {"slack-ops", "email"};
  r.callback_url = "https://ci.example.com/hook";
  r.idempotency_key = "idem-1";
  return r;
}

inline Decision MakeDecision(std::string id, const Request& request, std::string principal,
                             TimePoint at) {
  Decision d;
  d.id = std::move(id);
  d.request_id = request.id;
  d.principal = std::move(principal);
  d.choice = "approve";
  d.outcome = Outcome::kApproved;
  d.comment = "looks fine";
  d.at = at;
  return d;
}

inline EventDraft MakeDraft(std::string tenant, std::string request_id, std::string type,
                            boost::json::object data) {
  return {kStoreT0,        std::move(tenant), std::move(request_id),
          std::move(type), "alice",           std::move(data)};
}

inline void ExpectSameDecision(const Decision& a, const Decision& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.principal, b.principal);
  EXPECT_EQ(a.choice, b.choice);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.comment, b.comment);
  EXPECT_EQ(a.answer, b.answer);
  EXPECT_EQ(a.arguments, b.arguments);
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.response, b.response);
}

inline void ExpectSameRequest(const Request& a, const Request& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant, b.tenant);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.details, b.details);
  EXPECT_EQ(a.arguments, b.arguments);
  EXPECT_EQ(a.arguments_sha256, b.arguments_sha256);
  EXPECT_EQ(a.requester, b.requester);
  EXPECT_EQ(a.session, b.session);
  EXPECT_EQ(a.status, b.status);
  ASSERT_EQ(a.choices.size(), b.choices.size());
  for (size_t i = 0; i < a.choices.size(); ++i) {
    EXPECT_EQ(a.choices[i].id, b.choices[i].id);
    EXPECT_EQ(a.choices[i].label, b.choices[i].label);
    EXPECT_EQ(a.choices[i].style, b.choices[i].style);
    EXPECT_EQ(a.choices[i].outcome, b.choices[i].outcome);
  }
  EXPECT_EQ(a.approvers, b.approvers);
  EXPECT_EQ(a.quorum, b.quorum);
  EXPECT_EQ(a.policy, b.policy);
  EXPECT_EQ(a.risk, b.risk);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.deadline_at, b.deadline_at);
  EXPECT_EQ(a.on_timeout, b.on_timeout);
  EXPECT_EQ(a.escalation_level, b.escalation_level);
  EXPECT_EQ(a.notify, b.notify);
  EXPECT_EQ(a.callback_url, b.callback_url);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.resolved_at, b.resolved_at);
  EXPECT_EQ(a.resolved_by, b.resolved_by);
  EXPECT_EQ(a.answer, b.answer);
  EXPECT_EQ(a.response_schema, b.response_schema);
  EXPECT_EQ(a.reason_code, b.reason_code);
  EXPECT_EQ(a.grant_options, b.grant_options);
  EXPECT_EQ(a.receipt_use, b.receipt_use);
  EXPECT_EQ(a.report_within, b.report_within);
  EXPECT_EQ(a.execution, b.execution);
  ASSERT_EQ(a.decisions.size(), b.decisions.size());
  for (size_t i = 0; i < a.decisions.size(); ++i) {
    ExpectSameDecision(a.decisions[i], b.decisions[i]);
  }
}

// Writes and waits for the completion.
inline Status WriteAndWait(Store& store, Store::WriteFn fn) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  store.Write(std::move(fn), [&promise](Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

// Appends one event in a write of its own; its seq, or the write's error.
inline Result<int64_t> AppendOne(Store& store, EventDraft draft) {
  int64_t seq = 0;
  Status written = WriteAndWait(store, [&](Transaction& txn) -> Status {
    auto appended = txn.AppendEvent(draft);
    if (!appended.ok()) return std::move(appended).error();
    seq = *appended;
    return Ok();
  });
  if (!written.ok()) return std::move(written).error();
  return seq;
}

}  // namespace countersign::testing
