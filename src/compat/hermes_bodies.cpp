#include "compat/hermes_bodies.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>

#include "core/json_duplicate_keys.hpp"

namespace countersign {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

int64_t Clamp(int64_t seconds) {
  return std::clamp(seconds, kHermesMinTimeoutSeconds, kHermesMaxTimeoutSeconds);
}

// The daemon: `max(30, min(int(timeout), 3600))`, and 300 when int() raises.
int64_t TimeoutSeconds(const boost::json::value* v) {
  if (!v) return kHermesDefaultTimeoutSeconds;
  switch (v->kind()) {
    case boost::json::kind::int64:
      return Clamp(v->get_int64());
    case boost::json::kind::uint64:
      return kHermesMaxTimeoutSeconds;
    case boost::json::kind::double_: {
      const double d = v->get_double();
      if (!std::isfinite(d)) return kHermesDefaultTimeoutSeconds;
      return Clamp(static_cast<int64_t>(std::clamp(d, -1e9, 1e9)));
    }
    case boost::json::kind::bool_:
      return Clamp(v->get_bool() ? 1 : 0);
    case boost::json::kind::string: {
      auto parsed = HermesInteger(v->get_string());
      return parsed ? Clamp(*parsed) : kHermesDefaultTimeoutSeconds;
    }
    default:
      return kHermesDefaultTimeoutSeconds;
  }
}

// A trimmed string member; empty when absent or null.
Result<std::string> TrimmedString(const boost::json::object& body, const char* name) {
  const auto* v = body.if_contains(name);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string())
    return Error::Malformed("Field '" + std::string(name) + "' must be a string");
  return std::string(Trim(v->get_string()));
}

// A trimmed string member; empty when absent or not a string.
std::string LenientString(const boost::json::object& body, const char* name) {
  const auto* v = body.if_contains(name);
  if (!v || !v->is_string()) return {};
  return std::string(Trim(v->get_string()));
}

}  // namespace

std::optional<int64_t> HermesInteger(std::string_view text) {
  text = Trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  // Only digits are left, so the one failure is a number too large for 64 bits: it saturates.
  if (parsed.ec != std::errc() || value > static_cast<uint64_t>(INT64_MAX)) value = INT64_MAX;
  const auto magnitude = static_cast<int64_t>(value);
  return negative ? -magnitude : magnitude;
}

Result<NewRequest> ParseHermesSubmission(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("Invalid JSON body");
  const auto& o = body.get_object();
  NewRequest in;
  auto action = TrimmedString(o, "action");
  if (!action.ok()) return std::move(action).error();
  auto description = TrimmedString(o, "description");
  if (!description.ok()) return std::move(description).error();
  auto requester = TrimmedString(o, "requester");
  if (!requester.ok()) return std::move(requester).error();
  auto session = TrimmedString(o, "session_key");
  if (!session.ok()) return std::move(session).error();
  if (action->empty()) return Error::Malformed("Field 'action' is required");
  if (description->empty()) return Error::Malformed("Field 'description' is required");
  if (const auto* details = o.if_contains("details"); details && !details->is_null()) {
    if (!details->is_object()) return Error::Malformed("Field 'details' must be an object");
    in.details = details->get_object();
  }
  in.action = std::move(action).value();
  in.title = std::move(description).value();
  in.requester = requester->empty() ? "agent" : std::move(requester).value();
  in.session = std::move(session).value();
  in.timeout_seconds = TimeoutSeconds(o.if_contains("timeout_seconds"));
  return in;
}

HermesResolution ParseHermesResolution(std::string_view body, const char* name_field) {
  HermesResolution out;
  boost::system::error_code ec;
  // Only two strings are read, whatever the Content-Type: the daemon read the body as JSON
  // without looking at it, and clients that send none still name their decider.
  const boost::json::value parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) return out;
  out.duplicate_key = FindDuplicateKey(body);
  if (out.duplicate_key) return out;
  out.by = LenientString(parsed.get_object(), name_field);
  out.reason = LenientString(parsed.get_object(), "reason");
  return out;
}

}  // namespace countersign
