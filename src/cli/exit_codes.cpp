#include "cli/exit_codes.hpp"

#include <iostream>

namespace countersign {

int ExitCodeFor(const Error& error) {
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      return kExitError;
    case ErrorCode::kMalformed:
    case ErrorCode::kUnauthorized:
    case ErrorCode::kForbidden:
    case ErrorCode::kNotFound:
    case ErrorCode::kConflict:
    case ErrorCode::kTooLarge:
    case ErrorCode::kUnsupportedMediaType:
    case ErrorCode::kInvalid:
    case ErrorCode::kRateLimited:
      return kExitRefused;
  }
  return kExitError;
}

int ReportFailure(const Error& error) {
  std::cerr << "countersign: " << error.message << "\n";
  return ExitCodeFor(error);
}

}  // namespace countersign
