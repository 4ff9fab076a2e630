// StreamUpgrade: what a stream route hands the HTTP server once it has accepted a request:
// the protocol to speak on the connection and the feed of events to send over it. The server
// runs an EventStreamSession with the matching framing on the connection's strand, and
// the connection ends with the stream. A stream outlives the check of the token it was opened
// with, so `authorized` lets the session ask again now and then (a revoked token ends it).
// `render` lets a WebSocket stream speak another wire shape (a compatibility adapter's):
// it picks the events to send and writes each one's message. Move-only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/event_feed.hpp"

namespace countersign {

enum class StreamProtocol { kServerSentEvents, kWebSocket };

struct StreamUpgrade {
  StreamProtocol protocol = StreamProtocol::kServerSentEvents;
  std::unique_ptr<EventFeed> feed;  // not started yet; the session starts it
  // False once the caller's credentials no longer authenticate. Null: nothing to re-check.
  std::function<bool()> authorized;
  // WebSocket only: the text message for one event, or nullopt to send nothing for it. Called
  // on the session's strand. Null: every event as EventJsonText (the v1 shape).
  std::function<std::optional<std::string>(const Event&)> render = nullptr;
};

}  // namespace countersign
