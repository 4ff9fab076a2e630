// WaitProgress: what a command waiting on a request (`request --wait`, `exec`) tells its user
// while it waits: the request id, who may decide, its deadline and its page in the web inbox
// once, then one line per decision as the wait loop sees it ("alice approved, 1 of 2").
//
// The wait loop hands over every answer it gets (Saw()); decisions already reported are not
// reported again, so progress the loop saw late (several decisions in one answer) still comes
// out as one step each, in order. Human lines are indented under the command's own headline;
// JSON lines are one object each, for a program reading the stream: {"event": "waiting", ...},
// {"event": "decision", ...}, {"event": "warning", ...}, {"event": "interrupted", ...}. Each line
// is written to the stream in one piece (another thread, the interrupt handler's, may write lines
// too). Not thread-safe otherwise.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include <boost/json/object.hpp>

namespace countersign {

class WaitProgress {
 public:
  enum class Style { kHuman, kJson, kSilent };

  // `server_url` is the URL the command reached the server at: the inbox page is under it.
  WaitProgress(std::ostream& out, Style style, std::string server_url);

  // The request as created: who may decide, its deadline, its page, and any decisions it has.
  // `headline` is the human first line ("waiting for a decision on req_…"); JSON ignores it.
  void Started(const boost::json::object& request, const std::string& headline);

  // The create answer's `warnings` (what the server changed from what was asked), each a
  // "countersign: warning: ..." line (said even when the output is otherwise silent), or in
  // JSON {"event": "warning", "message": ...}.
  void Warned(const boost::json::object& created);

  // An answer of the wait loop: one step per decision not reported yet.
  void Saw(const boost::json::object& request);

  // The wait was interrupted: the request `id` was cancelled, left pending (`kept`), or
  // could not be cancelled (`failure` says why).
  void Interrupted(const std::string& id, bool kept, const std::string& failure);

  // {server_url}/ui/requests/{id}: the request's page in the web inbox.
  static std::string InboxUrl(const std::string& server_url, const std::string& id);

  // The human words of decision `index` of `request`: "alice approved, 1 of 2", "bob denied",
  // "carol escalated", "dave answered", each with its comment when it has one.
  static std::string Step(const boost::json::object& request, std::size_t index);

 private:
  void Write(const std::string& line);

  std::ostream& out_;
  const Style style_;
  const std::string server_url_;
  std::size_t reported_ = 0;  // decisions reported so far
};

}  // namespace countersign
