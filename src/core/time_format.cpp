#include "core/time_format.hpp"

#include <cstdio>

#include "core/canonical_json.hpp"

namespace countersign {

namespace {

void AppendDigits(unsigned value, int width, char* out) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::string FormatTime(TimePoint t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(days);
  const std::chrono::hh_mm_ss<Millis> hms(t - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

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

std::optional<TimePoint> ParseTime(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const std::string str(text);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (rest != "Z") return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return TimePoint(std::chrono::sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s) + Millis(ms);
}

std::optional<TimePoint> ParseUtcDay(std::string_view day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return std::nullopt;
  return ParseTime(std::string(day) + "T00:00:00Z");
}

}  // namespace countersign
