// TlsStream: an HTTPS connection, a TLS stream over the connection's TCP layer.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/beast.hpp"

namespace countersign {

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;

}  // namespace countersign
