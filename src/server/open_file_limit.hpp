// The process's open file limit: each connection holds one descriptor, so the soft limit
// (often 1024) is raised to the hard one at start, and the connection cap follows from it.
#pragma once

#include <cstdint>

namespace countersign {

// Raises the soft RLIMIT_NOFILE to the hard limit (logging the change) and returns the soft
// limit in force afterwards.
uint64_t RaiseOpenFileLimit();

// The connections the server admits at once when [limits] max_connections is not set: the
// descriptors left after `reserve` for the store, logs and outbound calls (at least 16).
uint64_t DefaultMaxConnections(uint64_t open_file_limit, uint64_t reserve = 128);

}  // namespace countersign
