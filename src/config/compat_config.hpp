// Reads the [compat.hermes], [compat.molecule] and [compat.aisoc] tables (see
// compat/compat_options.hpp). Errors name the file, line and key. Read at start-up only.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "compat/compat_options.hpp"
#include "core/result.hpp"

namespace countersign {

// Any of the tables may be absent (that adapter stays off). What the file does not set keeps
// its value in `defaults`. [compat.hermes] rate_limit is checked as the settings table's
// hermes_rate_limit (server_settings.hpp).
Result<CompatOptions> ReadCompatTables(const toml::table& root, const std::string& file,
                                       CompatOptions defaults = {});

}  // namespace countersign
