#include "cli/listen_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

namespace countersign {

Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view option) {
  const auto invalid = [&] {
    return Error::Invalid(std::string(option) + " must be IP:PORT with a port 0-65535, got '" +
                          std::string(text) + "'");
  };
  auto authority = boost::urls::parse_authority(text);
  if (!authority || authority->has_userinfo() || !authority->has_port() ||
      authority->port().empty() || authority->port().size() > 5 ||
      authority->port_number() != std::stoul(std::string(authority->port()))) {
    return invalid();
  }
  std::string host = authority->host_address();
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  if (ec) return invalid();
  return ListenAddress{host, authority->port_number()};
}

}  // namespace countersign
