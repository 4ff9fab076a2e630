// How a request event goes out on a live stream: the JSON text of a WebSocket message, and the
// text of a Server-Sent Events message. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/event.hpp"

namespace countersign {

// EventToJson(event) as compact JSON text (one line: JSON escapes every control character).
std::string EventJsonText(const Event& event);

// Appends "id: SEQ\nevent: TYPE\ndata: JSON\n\n" to `out`.
void AppendSseEvent(std::string& out, const Event& event);

// The last message of a stream cut off for falling behind: an "overflow" event (no id, so the
// client's Last-Event-ID stays on the last event it received) whose data says where to resume.
std::string SseOverflowMessage(int64_t resume_since);

// The WebSocket close reason for the same case (within the 123 bytes a close frame allows).
std::string OverflowCloseReason(int64_t resume_since);

// The SSE comment line sent when a stream has been idle for the heartbeat interval.
inline constexpr char kSseHeartbeat[] = ": keep-alive\n\n";

}  // namespace countersign
