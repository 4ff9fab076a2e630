#include "core/choice_meaning.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "core/ascii.hpp"

namespace countersign {
namespace {

constexpr std::array<std::string_view, 8> kApproveWords = {
    "approve", "approves", "approved", "approval", "allow", "allows", "allowed", "yes"};
constexpr std::array<std::string_view, 7> kDenyWords = {"deny",    "denies",   "denied", "reject",
                                                        "rejects", "rejected", "no"};
constexpr std::array<std::string_view, 4> kEscalateWords = {"escalate", "escalates", "escalated",
                                                            "escalation"};
constexpr std::array<std::string_view, 3> kAnswerWords = {"answer", "answers", "answered"};

// The label's words: runs of ASCII letters and digits, lower-cased. Anything else (spaces,
// punctuation, apostrophes, UTF-8) separates words.
std::vector<std::string> Words(std::string_view label) {
  std::vector<std::string> out;
  std::string word;
  for (char c : label) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) {
      word += c;
    } else if (!word.empty()) {
      out.push_back(AsciiLower(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(AsciiLower(word));
  return out;
}

template <size_t N>
bool NamesAny(const std::vector<std::string>& words, const std::array<std::string_view, N>& set) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(set.begin(), set.end(), w) != set.end();
  });
}

// What the label's words say, outcome by outcome.
struct Named {
  bool approve = false;
  bool deny = false;
  bool escalate = false;
  bool answer = false;
};

Named WhatLabelNames(std::string_view label) {
  const auto words = Words(label);
  return {NamesAny(words, kApproveWords), NamesAny(words, kDenyWords),
          NamesAny(words, kEscalateWords), NamesAny(words, kAnswerWords)};
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Status ChoiceMeaning::Check(const Choice& choice) {
  if (choice.id == "approve" && choice.outcome != Outcome::kApproved) {
    return Error::Invalid("choice 'approve' must lead to approved, not " +
                          std::string(OutcomeName(choice.outcome)) +
                          ": the ids approve and deny always mean approved and denied");
  }
  if (choice.id == "deny" && choice.outcome != Outcome::kDenied) {
    return Error::Invalid("choice 'deny' must lead to denied, not " +
                          std::string(OutcomeName(choice.outcome)) +
                          ": the ids approve and deny always mean approved and denied");
  }
  const Named named = WhatLabelNames(choice.label);
  const char* opposite = nullptr;
  switch (choice.outcome) {
    case Outcome::kApproved:
      if (named.deny) opposite = "denying";
      break;
    case Outcome::kDenied:
      if (named.approve) opposite = "approving";
      break;
    case Outcome::kEscalate:
    case Outcome::kAnswered:
      if (named.approve) opposite = "approving";
      if (named.deny) opposite = "denying";
      break;
  }
  if (opposite != nullptr) {
    return Error::Invalid("choice " + Quoted(choice.id) + " leads to " +
                          OutcomeName(choice.outcome) + " but its label " + Quoted(choice.label) +
                          " speaks of " + opposite + "; a label must not name another outcome");
  }
  return Ok();
}

std::string ChoiceMeaning::Style(const Choice& choice) {
  switch (choice.outcome) {
    case Outcome::kApproved:
    case Outcome::kAnswered:
      return choice.style == "default" ? "default" : "primary";
    case Outcome::kDenied:
      return choice.style == "default" ? "default" : "danger";
    case Outcome::kEscalate:
      return "default";
  }
  return "default";
}

const char* ChoiceMeaning::Verb(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApproved:
      return "approves";
    case Outcome::kDenied:
      return "denies";
    case Outcome::kEscalate:
      return "escalates";
    case Outcome::kAnswered:
      return "answers";
  }
  return "";
}

bool ChoiceMeaning::NeedsOutcomeWords(const Choice& choice) {
  const Named named = WhatLabelNames(choice.label);
  const int outcomes_named = int{named.approve} + int{named.deny} + int{named.escalate};
  bool own = false;
  switch (choice.outcome) {
    case Outcome::kApproved:
      own = named.approve;
      break;
    case Outcome::kDenied:
      own = named.deny;
      break;
    case Outcome::kEscalate:
      own = named.escalate;
      break;
    case Outcome::kAnswered:
      own = named.answer;
      break;
  }
  return !own || outcomes_named > 1;
}

std::string ChoiceMeaning::Suffix(const Choice& choice) {
  if (!NeedsOutcomeWords(choice)) return {};
  return std::string(" \u2014 ") + Verb(choice.outcome);
}

std::string ChoiceMeaning::Caption(const Choice& choice) { return choice.label + Suffix(choice); }

}  // namespace countersign
