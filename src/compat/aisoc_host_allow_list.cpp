#include "compat/aisoc_host_allow_list.hpp"

#include <cctype>

#include <boost/url/parse.hpp>

#include "core/ascii.hpp"

namespace countersign {
namespace {

bool IsLoopback(const boost::urls::url_view& url, std::string_view host) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name:
      return host == "localhost";
    default:
      return false;
  }
}

}  // namespace

AisocHostAllowList::AisocHostAllowList(std::vector<std::string> patterns) {
  for (auto& p : patterns) patterns_.push_back(AsciiLower(p));
}

bool AisocHostAllowList::Matches(std::string_view host, bool wildcards) const {
  for (const auto& p : patterns_) {
    if (p == host) return true;
    if (!wildcards || !p.starts_with("*.")) continue;
    const std::string_view suffix = std::string_view(p).substr(1);  // ".example.com"
    if (host.size() > suffix.size() && host.ends_with(suffix)) return true;
  }
  return false;
}

Status AisocHostAllowList::Check(std::string_view field, std::string_view url) const {
  const std::string name(field);
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty()) {
    return Error::Invalid(name + " must be an absolute https URL");
  }
  const boost::urls::url_view& u = *parsed;
  if (u.has_userinfo()) return Error::Invalid(name + " must not carry user info");
  // "evil.example%2f.webhook.office.com" decodes to a name that ends like an allowed one.
  if (u.encoded_host().find('%') != std::string_view::npos) {
    return Error::Invalid(name + " must not percent-encode its host");
  }
  const std::string scheme = AsciiLower(u.scheme());
  const std::string host = AsciiLower(u.host_address());
  if (scheme == "https") {
    if (Matches(host, true)) return Ok();
  } else if (scheme == "http") {
    if (IsLoopback(u, host) && Matches(host, false)) return Ok();
    return Error::Invalid(name +
                          " must be https (plain http only to a loopback host listed in "
                          "[compat.aisoc] allow_hosts)");
  } else {
    return Error::Invalid(name + " must be an https URL");
  }
  return Error::Invalid(name + " host '" + host +
                        "' is not in [compat.aisoc] allow_hosts: the server only POSTs to hosts "
                        "its operator listed");
}

}  // namespace countersign
