// LinkPages: the HTML pages of one-click links (GET/POST /l/{token}).
//
// The templates are files in src/web/ compiled into the binary (kWebFiles). Every value from
// a request, a token or a person is HTML-escaped (see PageTemplate); the pages need no
// JavaScript and no external resource, so they render under `default-src 'none'`. Each method
// returns a whole document. Which HTTP status goes with which page is the caller's choice.
// Thread-safe after Load() (rendering only reads the parsed templates).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "web/page_template.hpp"
#include "web/response_form.hpp"

namespace countersign {

// What a link offers, as its token says.
struct LinkOffer {
  std::string choice;
  std::string recipient;
  TimePoint expires_at;
};

// Another choice the recipient of a link may make instead: the confirm page of its own link.
struct OtherChoice {
  std::string choice;  // its id in the request
  std::string href;    // the other link, relative to this page ("./" and its token)
};

class LinkPages {
 public:
  // Parses the embedded templates; Error::Internal naming the file if one is missing or
  // malformed (a build defect, caught by the unit tests).
  static Result<LinkPages> Load();

  // The confirm page of a pending request, laid out so that the button is in the first screen
  // of a desktop browser: the request's title, action, requester, deadline with the time left
  // at `now`, and arguments (in a box of bounded height); then the form with the one choice
  // about to be made as its only button, a comment box (an answer box for a question) and
  // `csrf` in a hidden field; then links to `others` ("or Deny instead"), and below them the
  // details (less any that repeat an argument of the same name) and the decisions so far.
  // When the choice approves and r offers grant options, the one button becomes one per way
  // of approving: "Approve once" (no `grant` field value) and one per option (its label,
  // core/grant_option_text.hpp; `grant` = its value). Precondition: r.FindChoice(offer.choice)
  // is not null.
  std::string Confirm(const Request& r, const LinkOffer& offer, std::string_view csrf,
                      TimePoint now, const std::vector<OtherChoice>& others = {}) const;
  // After the decision was recorded: what was recorded and where the request stands now, and
  // `granted` (a sentence: the standing grant made with it, or why none was) when not empty;
  // `granted_ok`: whether a grant was made (an ok notice) or not (a warning).
  std::string Recorded(const Request& r, const LinkOffer& offer, std::string_view granted = "",
                       bool granted_ok = true) const;

  // The token is malformed, was changed, or was signed with another key.
  std::string InvalidLink() const;
  // The token is authentic but offers a choice the request does not have.
  std::string UnknownChoice(const Request& r, const LinkOffer& offer) const;
  // The request the token names does not exist (in its tenant).
  std::string UnknownRequest() const;
  // The link's expiry has passed; shows the request as it stands.
  std::string ExpiredLink(const Request& r, const LinkOffer& offer) const;
  // The request has left pending; shows its status and who decided.
  std::string AlreadyResolved(const Request& r) const;
  // The engine refused the recipient (not an approver, separation of duties, ...).
  std::string NotAllowed(const Request& r, std::string_view reason) const;
  // The decision was refused as invalid (too long a comment, an empty answer).
  std::string NotRecorded(const Request& r, std::string_view reason) const;
  // The form asked for a standing approval the request does not offer (a forged or stale
  // form); `reason` says which.
  std::string GrantNotOffered(const Request& r, std::string_view reason) const;
  // The anti-CSRF check of the form failed.
  std::string FormExpired() const;
  // The server could not read or write the request just now.
  std::string Unavailable() const;

  // The pieces the inbox pages (UiPages) share with these.
  // A request's summary: title, action, requester, status, progress, deadline, details (less
  // any that repeat an argument of the same name), arguments, decisions ("so far" while it is
  // pending).
  SafeHtml Summary(const Request& r) const;
  // A whole page: the layout around `content`, titled `title`.
  std::string Document(std::string_view title, SafeHtml content) const;
  // A state page: `tone` is ok, warn or error; `r` may be null.
  std::string State(std::string_view heading, std::string_view tone, std::string_view message,
                    std::string_view reason, std::string_view hint, const Request* r) const;
  // The fields of a decision form: the request's response form when `with_form` and it has
  // one (under a `heading_tag` heading, "h2" or "h3"), then the answer box (`answer_mode`)
  // or the comment box.
  SafeHtml DecisionFields(const Request& r, bool with_form, bool answer_mode,
                          std::string_view heading_tag) const;

 private:
  LinkPages(PageTemplate layout, PageTemplate summary, PageTemplate detail_row,
            PageTemplate decision_item, PageTemplate confirm, PageTemplate recorded,
            PageTemplate state, PageTemplate decision_fields, PageTemplate other_choice,
            PageTemplate grant_button, ResponseForm response_form);

  // The rows of the request's details and the items of its decisions, as Summary shows them.
  SafeHtml DetailRows(const Request& r) const;
  SafeHtml DecisionItems(const Request& r) const;

  PageTemplate layout_;
  PageTemplate summary_;
  PageTemplate detail_row_;
  PageTemplate decision_item_;
  PageTemplate confirm_;
  PageTemplate recorded_;
  PageTemplate state_;
  PageTemplate decision_fields_;
  PageTemplate other_choice_;
  PageTemplate grant_button_;
  ResponseForm response_form_;
};

}  // namespace countersign
