// LinkBuilder: the one-click URLs a channel puts on its buttons ({public_url}/l/{token}).
//
// A link is bound to the principal it decides as; a broadcast channel (Teams, a Slack
// incoming webhook) binds its links to the channel's `principal` setting. A link lives until
// the request's deadline. Thread-safe (immutable).
#pragma once

#include <string>

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
  // A link to the request's page without a decision (e.g. "open in countersign").
  const std::string& public_url() const { return public_url_; }

 private:
  std::string public_url_;
  const LinkSigner& signer_;
};

}  // namespace countersign
