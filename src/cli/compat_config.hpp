// Reads the [compat.hermes], [compat.molecule] and [compat.aisoc] tables (see
// compat/compat_options.hpp). Errors name the file, line and key. Read at start-up only.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "compat/compat_options.hpp"
#include "core/result.hpp"

namespace countersign {

// Any of the tables may be absent (that adapter stays off).
Result<CompatOptions> ReadCompatTables(const toml::table& root, const std::string& file);

}  // namespace countersign
