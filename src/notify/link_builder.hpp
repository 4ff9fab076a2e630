// LinkBuilder: the one-click URLs a channel puts on its buttons ({public_url}/l/{token}), and
// the address of a request's page in the web inbox ({public_url}/ui/requests/{id}).
//
// A link is bound to the principal it decides as; a broadcast channel (Teams, a Slack
// incoming webhook) binds its links to the channel's `principal` setting. A link lives until
// the request's deadline. Thread-safe (immutable).
#pragma once

#include <string>
#include <string_view>

#include "auth/link_signer.hpp"
#include "core/request.hpp"

namespace countersign {

class LinkBuilder {
 public:
  // `public_url` has no trailing slash. `signer` must outlive the builder.
  LinkBuilder(std::string public_url, const LinkSigner& signer)
      : public_url_(std::move(public_url)), signer_(signer) {}

  std::string Url(const Request& request, const std::string& choice,
                  const std::string& recipient) const;
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
};

}  // namespace countersign
