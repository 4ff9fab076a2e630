// EmailBody: what one email says about a request, as plain text and as a simple HTML page.
//
// Both bodies carry the same things: the headline (what is asked, or how the request ended),
// the title, who asked, the action, the deadline, risk, policy, approvers, details, the
// arguments (laid out as JSON), the decisions so far, while the request is pending one link
// per choice (and, when the request offers grant_options, a sentence naming the standing
// approvals the approval link's page offers besides approving once), and after them, whatever
// the request's state, a link to its page in the web inbox. Every choice link opens a
// confirmation page; opening it decides nothing. All user text is escaped in the HTML. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/request.hpp"

namespace countersign {

struct EmailLink {
  std::string label;  // the choice's label
  std::string url;    // a one-click link
  std::string style;  // the choice's style: "primary", "danger" or "default"
};

struct EmailBody {
  std::string text;  // "\n" line ends
  std::string html;

  static constexpr size_t kMaxTitle = 150;  // in the subject
  static constexpr size_t kMaxArguments = 20000;
  static constexpr size_t kMaxField = 2000;
};

// The subject of every message about `r` (later ones add "Re: "): what it asks and its
// title, "Approval needed: Deploy v2.0"; the same whatever happens to the request, so mail
// clients thread by it.
std::string EmailSubject(const Request& r);

// The bodies for `r` as it stands after `event`. `links`: one per choice, bound to
// `decides_as`, who is named next to them; when the request is pending and `links` is empty,
// the message says to decide elsewhere. `inbox_url`: the request's page in the web inbox
// (LinkBuilder::InboxUrl), "Open in the inbox"; none when empty.
EmailBody RenderEmailBody(const Request& r, std::string_view event,
                          const std::vector<EmailLink>& links, std::string_view decides_as,
                          std::string_view inbox_url);

}  // namespace countersign
