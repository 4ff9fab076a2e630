#include "http/event_frames.hpp"

#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"

namespace countersign {

std::string EventJsonText(const Event& event) { return boost::json::serialize(EventToJson(event)); }

void AppendSseEvent(std::string& out, const Event& event) {
  out += "id: ";
  out += std::to_string(event.seq);
  out += "\nevent: ";
  out += event.type;
  out += "\ndata: ";
  out += EventJsonText(event);
  out += "\n\n";
}

std::string SseOverflowMessage(int64_t resume_since) {
  boost::json::object data{
      {"error",
       {{"code", "slow_consumer"},
        {"message",
         "the stream fell too far behind and was closed; reconnect with Last-Event-ID or since"}}},
      {"since", resume_since}};
  return "event: overflow\ndata: " + boost::json::serialize(data) + "\n\n";
}

std::string OverflowCloseReason(int64_t resume_since) {
  return "slow consumer: resume with since=" + std::to_string(resume_since);
}

}  // namespace countersign
