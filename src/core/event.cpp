#include "core/event.hpp"

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {

std::string CanonicalEvent(const Event& event) {
  boost::json::object o;
  o["seq"] = event.seq;
  o["at"] = FormatTime(event.at);
  o["tenant"] = event.tenant;
  o["request_id"] = event.request_id;
  o["type"] = event.type;
  o["actor"] = event.actor;
  o["data"] = event.data;
  return CanonicalJson(o);
}

std::string ChainHash(const Event& event) {
  return Sha256Hex(event.prev_hash + CanonicalEvent(event));
}

}  // namespace countersign
