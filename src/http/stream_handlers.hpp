// StreamHandlers: GET /v1/events (Server-Sent Events) and GET /v1/ws (WebSocket), the live
// streams of the caller's request events.
//
// Each checks the request and hands the connection over (Router::AddStream): ?request=ID
// narrows the stream to one request the caller may read (404 otherwise, as for GET
// /v1/requests/{id}); ?since=SEQ, or on /v1/events the Last-Event-ID header (which wins, as a
// reconnecting EventSource sends it alongside its original URL), replays every event after SEQ
// first; without either the stream starts with the next event. A malformed position is 400.
// /v1/ws without an Upgrade: websocket handshake is 400. What the streams contain and who sees
// what is EventFeed's contract. Thread-safe: no state beyond the references held.
#pragma once

#include "engine/event_bus.hpp"
#include "engine/gateway.hpp"
#include "http/router.hpp"

namespace countersign {

class StreamHandlers {
 public:
  StreamHandlers(Gateway& gateway, EventBus& bus) : gateway_(gateway), bus_(bus) {}

  void Register(Router& router);

  asio::awaitable<Result<StreamUpgrade>> Events(RequestContext& ctx);
  asio::awaitable<Result<StreamUpgrade>> WebSocket(RequestContext& ctx);

 private:
  asio::awaitable<Result<std::unique_ptr<EventFeed>>> MakeFeed(RequestContext& ctx,
                                                               bool last_event_id);

  Gateway& gateway_;
  EventBus& bus_;
};

}  // namespace countersign
