// HttpServer's connections over plain TCP.
#include "http/http_server.hpp"

#include "http/http_server_session.hpp"

namespace countersign {

template asio::awaitable<bool> HttpServer::Session(Connection&, beast::tcp_stream&);

}  // namespace countersign
