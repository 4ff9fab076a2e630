#include "cli/http_url.hpp"

#include <boost/url/parse.hpp>

namespace countersign {

Result<HttpUrl> ParseHttpUrl(std::string_view text, std::string_view what) {
  const std::string quoted = std::string(what) + " '" + std::string(text) + "'";
  const std::string expected = ": expected http[s]://HOST[:PORT][/PREFIX]";
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return Error::Unavailable("invalid " + quoted + expected);
  const auto& url = *parsed;
  const bool tls = url.scheme_id() == boost::urls::scheme::https;
  if (!tls && url.scheme_id() != boost::urls::scheme::http) {
    return Error::Unavailable("unsupported scheme '" + std::string(url.scheme()) + "' in " +
                              quoted + expected);
  }
  if (!url.has_authority() || url.encoded_host_address().empty() || url.has_userinfo() ||
      url.has_query() || url.has_fragment()) {
    return Error::Unavailable("invalid " + quoted + expected);
  }
  HttpUrl out;
  out.scheme = tls ? "https" : "http";
  out.host = url.host_address();
  out.port = url.has_port() && !url.port().empty() ? std::string(url.port()) : tls ? "443" : "80";
  out.host_header = url.encoded_host_and_port();
  out.prefix = url.encoded_path();
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  return out;
}

}  // namespace countersign
