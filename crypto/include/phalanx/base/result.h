#pragma once
// Result<T>: a value or an Error a person can act on. For operating errors (missing
// file, bad config, bad key) that callers are expected to handle; invariants use
// PHALANX_ASSERT instead. C++20 has no std::expected, so this is the small subset we use.

#include <string>
#include <utility>
#include <variant>

#include "phalanx/base/assert.h"

namespace phalanx {

struct Error {
  std::string message;  // one line, says what is wrong and where (file, field, value)
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    PHALANX_ASSERT(ok(), "Result::value() on an error");
    return std::get<T>(state_);
  }
  T& value() & {
    PHALANX_ASSERT(ok(), "Result::value() on an error");
    return std::get<T>(state_);
  }
  T&& value() && {
    PHALANX_ASSERT(ok(), "Result::value() on an error");
    return std::get<T>(std::move(state_));
  }
  const Error& error() const {
    PHALANX_ASSERT(!ok(), "Result::error() on a value");
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Status: a Result with no value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace phalanx
