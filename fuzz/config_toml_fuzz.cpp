// Fuzzes LoadConfigText (config/server_config.hpp): toml++'s parser and every table the
// server reads from countersign.toml ([server], [[policy]], [groups], [risk], [limits],
// [[channel]], [[webhook]], [identities], [outbox], [outbound], [compat.*]), checked as on
// start-up and on SIGHUP. Never throws, so a thrown exception is a crash here too.
// Invariant: a loaded config always has a policy set.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/server_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  auto loaded =
      LoadConfigText(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (loaded.ok() && !loaded->policies) __builtin_trap();
  return 0;
}
