// Result<T> and Status: expected failures as values, for the whole request path.
//
// A Result<T> holds either a T or an Error. Status is Result<void>. Callers check ok() and
// return early; nothing on the request path throws. Plain value types; not thread-safe to
// mutate concurrently, safe to copy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace countersign {

struct Request;

// What went wrong, in terms a client can act on. Each maps to one HTTP status.
enum class ErrorCode {
  kMalformed,             // 400: body is not valid JSON, or a field has the wrong type
  kUnauthorized,          // 401: no token, or a bad one
  kForbidden,             // 403: authenticated but not allowed
  kNotFound,              // 404: unknown id, or one in another tenant
  kConflict,              // 409: the request is no longer in a state that allows this
  kTooLarge,              // 413: body over the limit
  kUnsupportedMediaType,  // 415: not application/json
  kInvalid,               // 422: well-formed but semantically invalid
  kRateLimited,           // 429
  kUnavailable,           // 503: store unavailable or a queue is full
  kInternal,              // 500: a broken invariant
};

// The stable machine-readable name of a code ("not_found", ...).
const char* ErrorCodeName(ErrorCode code);

// `text` a caller sent, as an error message may repeat it: whole when at most `max` bytes,
// else cut there (never inside a UTF-8 character) with "..." after, so a 15 KB id does not
// come back in a 404.
std::string Echo(std::string_view text, size_t max = 64);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // For kConflict: the request as it stands now, so the loser of a race sees who won.
  std::shared_ptr<const Request> current;
  // For kRateLimited: when to try again.
  int64_t retry_after_seconds = 0;
  // For kInvalid: the input field at fault ("response.age"), when one is.
  std::string field = {};

  static Error Malformed(std::string m) { return {ErrorCode::kMalformed, std::move(m), nullptr}; }
  static Error Unauthorized(std::string m) {
    return {ErrorCode::kUnauthorized, std::move(m), nullptr};
  }
  static Error Forbidden(std::string m) { return {ErrorCode::kForbidden, std::move(m), nullptr}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m), nullptr}; }
  static Error Conflict(std::string m, std::shared_ptr<const Request> current = nullptr) {
    return {ErrorCode::kConflict, std::move(m), std::move(current)};
  }
  static Error Invalid(std::string m) { return {ErrorCode::kInvalid, std::move(m), nullptr}; }
  static Error InvalidField(std::string field, std::string m) {
    Error error{ErrorCode::kInvalid, std::move(m), nullptr};
    error.field = std::move(field);
    return error;
  }
  static Error RateLimited(std::string m, int64_t retry_after_seconds) {
    return {ErrorCode::kRateLimited, std::move(m), nullptr, retry_after_seconds};
  }
  static Error Unavailable(std::string m) {
    return {ErrorCode::kUnavailable, std::move(m), nullptr};
  }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m), nullptr}; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace countersign

// Evaluates a Status or Result expression and returns its error from the enclosing function
// (whose return type is a Status or Result) when it failed.
#define CS_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    if (auto cs_status_ = (expr); !cs_status_.ok()) { \
      return std::move(cs_status_).error();           \
    }                                                 \
  } while (0)

namespace countersign {}  // namespace countersign
