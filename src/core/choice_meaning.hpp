// ChoiceMeaning: what a choice means, bound to its outcome.
//
// A choice's outcome is its meaning; its label and style are presentation the requester
// chooses. Nothing a requester sends may make a button look like the opposite of what it
// does: the ids "approve" and "deny" always lead to approved and denied, a label that names
// the opposite outcome (approve/allow/yes against deny/reject/no, as a word, any case) is
// refused, every surface colours a button by its outcome (the requester may only ask for a
// neutral one), and a label that does not itself name its outcome is shown with the outcome
// in words ("Ship it — approves"). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

class ChoiceMeaning {
 public:
  // Ok, or Error::Invalid naming the choice and saying what contradicts what.
  static Status Check(const Choice& choice);

  // The colour a surface gives the choice: "primary" (approved, answered), "danger" (denied)
  // or "default" (escalate, or a requester who asked for a neutral button). Never the
  // requester's style otherwise.
  static std::string Style(const Choice& choice);

  // The outcome in words, as a verb: "approves", "denies", "escalates", "answers".
  static const char* Verb(Outcome outcome);

  // Whether a surface must add the outcome in words after the label: the label names no word
  // of its own outcome (or names another outcome's too).
  static bool NeedsOutcomeWords(const Choice& choice);

  // The label as every surface shows it: the label, plus " — " and Verb() when
  // NeedsOutcomeWords().
  static std::string Caption(const Choice& choice);

  // " — approves" for a choice that NeedsOutcomeWords(), else "".
  static std::string Suffix(const Choice& choice);
};

}  // namespace countersign
