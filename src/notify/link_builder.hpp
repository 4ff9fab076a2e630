// LinkBuilder: the one-click URLs a channel puts on its buttons ({public_url}/l/{token}), and
// the address of a request's page in the web inbox ({public_url}/ui/requests/{id}).
//
// A link is bound to the principal it decides as; a broadcast channel (Teams, a Slack
// incoming webhook) binds its links to the channel's `principal` setting. A link lives until
// the request's deadline. LinksFor() makes the whole set a request's approvers get, for the
// API (POST /v1/requests/{id}/links) and for webhook bodies. Thread-safe (immutable, and
// `group_members` must be thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "auth/link_signer.hpp"
#include "core/request.hpp"
#include "notify/approver_principals.hpp"

namespace countersign {

// One one-click link: `recipient` makes `choice` by opening `url`.
struct OneClickLink {
  std::string recipient;
  std::string choice;
  std::string url;
};

class LinkBuilder {
 public:
  // `public_url` has no trailing slash. `signer` must outlive the builder. `group_members`
  // expands "group:NAME" approvers for LinksFor() (see ExpandApprovers).
  LinkBuilder(std::string public_url, const LinkSigner& signer, GroupMembers group_members = {})
      : public_url_(std::move(public_url)),
        signer_(signer),
        group_members_(std::move(group_members)) {}

  std::string Url(const Request& request, const std::string& choice,
                  const std::string& recipient) const;
  // Every link of `request`: for each person its approvers name (groups expanded, in order),
  // one per choice, in the request's order. Empty when the request names no approvers (anyone
  // may decide it, and a link must name someone). Each expires at the request's deadline.
  std::vector<OneClickLink> LinksFor(const Request& request) const;
  // The request's page in the web inbox, {public_url}/ui/requests/{request_id}: a plain link
  // that decides nothing and is bound to no one (the inbox asks who is signing in). The one
  // place this address is made; `request_id` is a request id ("req_" and Crockford base32),
  // which needs no escaping.
  std::string InboxUrl(std::string_view request_id) const;
  // The server's public URL, with no trailing slash.
  const std::string& public_url() const { return public_url_; }

 private:
  std::string public_url_;
  const LinkSigner& signer_;
  const GroupMembers group_members_;
};

// [{"recipient", "choice", "url"}, ...], the "links" of the API and of webhook bodies.
boost::json::array LinksToJson(const std::vector<OneClickLink>& links);

}  // namespace countersign
