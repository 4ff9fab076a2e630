// RunToCompletion: how the command-line tools' blocking network code gives every step a
// deadline. Beast's tcp_stream times out asynchronous operations only, so each step is started
// asynchronously on a private io_context and run to completion before the next one starts.
// Thread-safe for distinct io_contexts.
#pragma once

#include <boost/asio/io_context.hpp>

namespace countersign {

inline void RunToCompletion(boost::asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace countersign
