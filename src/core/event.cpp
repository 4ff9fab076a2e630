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

void AppendDigits(unsigned value, int width, char* out) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// FormatTime(t) as a JSON string, without snprintf (a verification formats millions): years
// 0 to 9999 here, any other through FormatTime itself, so the text is always the same.
void AppendJsonTime(TimePoint t, std::string& out) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(days);
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    AppendJsonString(FormatTime(t), out);
    return;
  }
  const std::chrono::hh_mm_ss<Millis> hms(t - days);
  char text[] = "\"0000-00-00T00:00:00.000Z\"";
  AppendDigits(static_cast<unsigned>(year), 4, text + 1);
  AppendDigits(static_cast<unsigned>(ymd.month()), 2, text + 6);
  AppendDigits(static_cast<unsigned>(ymd.day()), 2, text + 9);
  AppendDigits(static_cast<unsigned>(hms.hours().count()), 2, text + 12);
  AppendDigits(static_cast<unsigned>(hms.minutes().count()), 2, text + 15);
  AppendDigits(static_cast<unsigned>(hms.seconds().count()), 2, text + 18);
  AppendDigits(static_cast<unsigned>(hms.subseconds().count()), 3, text + 21);
  out.append(text, sizeof text - 1);
}

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
