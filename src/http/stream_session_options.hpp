// StreamSessionOptions: the timing of one live event stream (SSE or WebSocket).
#pragma once

#include <chrono>
#include <cstddef>

#include "engine/alarms.hpp"

namespace countersign {

struct StreamSessionOptions {
  // An idle SSE stream sends a comment line this often; a WebSocket sends a ping this often
  // and gives up on a peer silent for twice as long. Keeps idle connections open through
  // proxies and finds dead peers.
  std::chrono::seconds heartbeat{15};
  // The longest one write may take; a client that accepts nothing for this long is dropped.
  std::chrono::seconds write_timeout{30};
  // The most events taken from the feed for one write.
  size_t batch_events = 64;
  // The clock the heartbeat and the credential re-check keep time by. Required.
  Alarms* alarms = nullptr;
};

}  // namespace countersign
