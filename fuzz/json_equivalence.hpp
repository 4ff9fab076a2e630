// JSON value checks for the fuzz targets' invariants.
//
// EquivalentJson: whether two JSON values are the same but for doubles a few units in the
// last place apart.
//
// Boost.JSON 1.81 does not round every decimal number to the nearest double (it has no
// precise mode before 1.83): 9.223372036854747E30, which its own serialiser prints, parses
// back one ulp away, 1.2123456789012345E39 three. So text → value → text is not always a
// fixpoint for doubles; the fuzz targets check everything else exactly and doubles to a
// relative 1e-12 (see docs/fuzzing.md). Pure; header-only.
#pragma once

#include <cmath>

#include <boost/json/value.hpp>

namespace countersign::fuzz {

inline bool EquivalentJson(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-12 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!EquivalentJson(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const auto* other = y.if_contains(member.key());
      if (!other || !EquivalentJson(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// Whether every number in `v` is finite. Boost.JSON reads 1e400 as infinity and serialises it
// as `Infinity`, which is not JSON; ParseJsonBody refuses such bodies, so no canonical JSON is
// made of one.
inline bool AllNumbersFinite(const boost::json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (!AllNumbersFinite(item)) return false;
    }
  }
  if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      if (!AllNumbersFinite(member.value())) return false;
    }
  }
  return true;
}

}  // namespace countersign::fuzz
