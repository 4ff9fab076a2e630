// A count with its noun in the right number, for what the server logs and the CLI prints:
// "1 webhook subscription", "2 webhook subscriptions", "0 policies". Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace countersign {

// `count` and `singular` when it is 1, else `plural` (by default `singular` + "s").
std::string CountedNoun(int64_t count, std::string_view singular, std::string_view plural = {});

}  // namespace countersign
