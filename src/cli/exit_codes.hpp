// Exit codes of the client commands, and how a failure is reported.
//
// Every command: 0 success, 1 the server refused (a 4xx answer), 3 anything else (the server
// is unreachable or answered 5xx, the URL or token file is unusable, bad usage).
// `request --wait` instead exits with the outcome: 0 approved or answered, 1 denied,
// 2 expired, cancelled or still pending when --wait-timeout passed, 3 any error, 130
// interrupted (SIGINT or SIGTERM) while waiting: the request is cancelled, or left pending
// with --keep-on-interrupt. `exec` exits 130 too when interrupted while waiting.
// Errors the CLI detects itself (bad URL, unreadable token file, unreachable server) are
// Error::Unavailable, so they map to 3 like a 503.
#pragma once

#include "core/result.hpp"

namespace countersign {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;  // also "denied" for request --wait
inline constexpr int kExitNotApproved = 2;
inline constexpr int kExitError = 3;
inline constexpr int kExitInterrupted = 130;  // the shell's code for SIGINT

// The help footer of every command but `request`.
inline constexpr const char* kNonRequestFooter =
    "Exit status: 0 success, 1 the server refused (a 4xx answer: bad token, not allowed, "
    "unknown id, conflict, invalid input), 3 any other error (server unreachable, a 5xx "
    "answer, bad usage).";

// 1 for a refusal (the codes a 4xx answer carries), 3 otherwise.
int ExitCodeFor(const Error& error);

// Prints "countersign: MESSAGE" to stderr and returns ExitCodeFor(error).
int ReportFailure(const Error& error);

}  // namespace countersign
