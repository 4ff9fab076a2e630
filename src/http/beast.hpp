// The one place the Asio and Beast namespace aliases live, with the HTTP message types every
// handler sees.
//
// Deliberately light: the message types and asio::awaitable, nothing that does I/O. A file
// that reads, writes, waits or spawns includes the Asio or Beast headers it uses itself, so a
// handler's translation unit does not parse (and emit debug info for) all of Asio.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace boost::asio::ip {
class tcp;
}  // namespace boost::asio::ip

namespace countersign {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

}  // namespace countersign
