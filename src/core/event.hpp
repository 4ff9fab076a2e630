// Event: one append-only, hash-chained audit record.
//
// hash = SHA-256(prev_hash || CanonicalEvent(event)), both as lower-case hex text; the first
// event's prev_hash is kGenesisHash. Any edit to a stored row breaks the chain from there on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/clock.hpp"

namespace countersign {

inline constexpr char kGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The type of the events that sign the chain up to the event before them (engine/AuditSealer).
inline constexpr char kAuditCheckpointEvent[] = "audit.checkpoint";

struct Event {
  int64_t seq = 0;
  TimePoint at;
  std::string tenant;
  std::string request_id;
  std::string type;   // "request.created", "decision.recorded", ...
  std::string actor;  // the principal name, or "system"
  boost::json::object data;
  std::string prev_hash;
  std::string hash;
};

// The hashed fields of an event as views, its data as canonical JSON text (as the store keeps
// it): what a verifier reads from a stored row without copying it into an Event.
struct EventView {
  int64_t seq = 0;
  TimePoint at;
  std::string_view tenant;
  std::string_view request_id;
  std::string_view type;
  std::string_view actor;
  std::string_view data;  // CanonicalJson(data), used verbatim
  std::string_view prev_hash;
};

// The canonical JSON of the hashed fields: seq, at, tenant, request_id, type, actor, data.
std::string CanonicalEvent(const Event& event);
// The same text appended to `out`, for an EventView (the one writer of this text).
void AppendCanonicalEvent(const EventView& event, std::string& out);

// The hash `event` must carry given its prev_hash.
std::string ChainHash(const Event& event);

// The same two for a caller that already has CanonicalJson(event.data), which they then use
// in place of event.data.
std::string CanonicalEvent(const Event& event, std::string_view canonical_data);
std::string ChainHash(const Event& event, std::string_view canonical_data);

}  // namespace countersign
