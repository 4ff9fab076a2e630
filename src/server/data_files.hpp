// The files a server keeps in and around its data directory: the first admin token, the
// callback signing key and the port file. Each is written so that a reader never sees a
// partial file and only the server's user can read a secret. Not thread-safe: for start-up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace countersign {

// Creates `path` (which must not exist) with mode 0600 holding `secret` and a newline, and
// syncs it to disk.
Status WriteSecretFile(const std::filesystem::path& path, const std::string& secret);

// Writes `port` and a newline to `path` through a temporary file and a rename.
Status WritePortFile(const std::string& path, uint16_t port);

// The key that signs POSTs to requests' callback_url: `configured` ([outbox]
// callback_secret) when set, else `callback.key` in `data_dir`, created on first start (and
// logged).
Result<std::string> LoadCallbackSecret(const std::string& configured,
                                       const std::filesystem::path& data_dir);

}  // namespace countersign
