// MakeTlsServerContext: the OpenSSL server context HTTPS connections are made with.
//
// Reads a PEM certificate chain and an unencrypted PEM private key once, at start-up, and
// checks that they belong together. TLS 1.2 is the oldest version offered; compression and
// renegotiation are off. The context is immutable once made and may be shared by every
// connection on every thread.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/result.hpp"

namespace countersign {

// Errors (kInvalid) name the file at fault and say what is wrong with it.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsServerContext(
    const std::string& cert_chain_file, const std::string& private_key_file);

}  // namespace countersign
