// A receipt's unique id (its `jti` claim): "rct_" and 128 bits from OpenSSL's CSPRNG as 32
// lower-case hex digits. Random rather than time-ordered: nothing sorts receipts, and a jti
// must not be guessable from another. The bytes are drawn 32 ids at a time into a per-thread
// buffer (one CSPRNG call instead of one per id). Thread-safe.
#pragma once

#include <string>

namespace countersign {

// Empty only when the CSPRNG fails (it is not seeded); treat that as an internal error.
std::string NewReceiptId();

}  // namespace countersign
