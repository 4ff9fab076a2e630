#include "core/event.hpp"

#include <charconv>
#include <chrono>

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {

std::string CanonicalEvent(const Event& event) {
  return CanonicalEvent(event, CanonicalJson(event.data));
}

namespace {

EventView ViewOf(const Event& event, std::string_view canonical_data) {
  return EventView{event.seq,  event.at,    event.tenant,   event.request_id,
                   event.type, event.actor, canonical_data, event.prev_hash};
}

}  // namespace

std::string CanonicalEvent(const Event& event, std::string_view canonical_data) {
  std::string out;
  out.reserve(192 + canonical_data.size());
  AppendCanonicalEvent(ViewOf(event, canonical_data), out);
  return out;
}

void AppendCanonicalEvent(const EventView& event, std::string& out) {
  // An object of seven members, written with its keys already in byte order.
  out.append(R"({"actor":)");
  AppendJsonString(event.actor, out);
  out.append(R"(,"at":)");
  AppendJsonTime(event.at, out);
  out.append(R"(,"data":)");
  out.append(event.data);
  out.append(R"(,"request_id":)");
  AppendJsonString(event.request_id, out);
  out.append(R"(,"seq":)");
  char seq[24];
  const auto end = std::to_chars(seq, seq + sizeof seq, event.seq).ptr;
  out.append(seq, end);
  out.append(R"(,"tenant":)");
  AppendJsonString(event.tenant, out);
  out.append(R"(,"type":)");
  AppendJsonString(event.type, out);
  out.push_back('}');
}

std::string ChainHash(const Event& event) { return ChainHash(event, CanonicalJson(event.data)); }

std::string ChainHash(const Event& event, std::string_view canonical_data) {
  return Sha256Hex(event.prev_hash + CanonicalEvent(event, canonical_data));
}

}  // namespace countersign
