// RequestBuilder: turns a submission into the request to store, under the current policies.
//
// Checks the meaning of every field (kInvalid, naming the field), merges the submission with
// the policy that matches it (the policy sets the rules; a request may only make them
// stricter), and says whether that policy decides it at once. Grants live in the store, so
// the gateway looks them up; the verdict says whether one may decide the request. No store and
// no clock: the caller passes the new request's id and the time. Immutable after
// construction; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "auth/actor.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/new_request.hpp"
#include "policy/policy.hpp"
#include "policy/policy_set.hpp"

namespace countersign {

// Who decides a submission before a person is asked.
struct AutoVerdict {
  AutoDecision decision = AutoDecision::kNone;
  std::string decided_by;  // "policy:NAME" or "grant:ID" once decided
  // No policy decided it and it is not high-risk: an active grant would approve it.
  bool grantable = false;

  bool AsksAPerson() const { return decision == AutoDecision::kNone; }
};

class RequestBuilder {
 public:
  struct Built {
    Request request;
    AutoVerdict verdict;  // the policy's; never by a grant
    // What the submitter should know was changed from what it asked, e.g. a timeout cut to
    // the policy's max_timeout; each a sentence.
    std::vector<std::string> warnings = {};
  };

  // `default_timeout` is the built-in default policy's; no timeout may exceed `max_timeout`.
  RequestBuilder(std::chrono::seconds default_timeout, std::chrono::seconds max_timeout);

  // The request `actor` submits with `input` (whose fields it moves from), as request `id`
  // created at `now`, or kInvalid saying which field is wrong.
  Result<Built> Build(const Actor& actor, NewRequest& input, const PolicySet& policies,
                      std::string id, TimePoint now) const;

  // The verdict Build would give a submission of `input` by `actor`, without checking the rest
  // of it.
  static AutoVerdict Route(const Actor& actor, const NewRequest& input, const PolicySet& policies);

 private:
  // The checks of each field on its own, before any policy is applied.
  Status CheckFields(const NewRequest& input) const;

  std::chrono::seconds default_timeout_;
  std::chrono::seconds max_timeout_;
};

}  // namespace countersign
