#include "core/event.hpp"

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {

std::string CanonicalEvent(const Event& event) {
  return CanonicalEvent(event, CanonicalJson(event.data));
}

std::string CanonicalEvent(const Event& event, std::string_view canonical_data) {
  // An object of seven members, written with its keys already in byte order.
  std::string out;
  out.reserve(192 + canonical_data.size());
  out.append(R"({"actor":)");
  AppendJsonString(event.actor, out);
  out.append(R"(,"at":)");
  AppendJsonString(FormatTime(event.at), out);
  out.append(R"(,"data":)");
  out.append(canonical_data);
  out.append(R"(,"request_id":)");
  AppendJsonString(event.request_id, out);
  out.append(R"(,"seq":)");
  out.append(std::to_string(event.seq));
  out.append(R"(,"tenant":)");
  AppendJsonString(event.tenant, out);
  out.append(R"(,"type":)");
  AppendJsonString(event.type, out);
  out.push_back('}');
  return out;
}

std::string ChainHash(const Event& event) { return ChainHash(event, CanonicalJson(event.data)); }

std::string ChainHash(const Event& event, std::string_view canonical_data) {
  return Sha256Hex(event.prev_hash + CanonicalEvent(event, canonical_data));
}

}  // namespace countersign
