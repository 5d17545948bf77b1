#pragma once
// FencedStorage: a toy of the storage service a lock protects (Kleppmann, "How to do
// distributed locking", 2016). It is not replicated and knows nothing of the lock
// service: it stands for a separate system that a lock holder writes to.
//
// It remembers, per key, the largest fencing token of an accepted write, and accepts a
// write only with a token at least that large. A client that was paused past its lease
// and writes with its old token is refused once the next holder (a larger token) has
// written. Equal tokens pass: one holder may write many times. Token 0 (no grant) never
// passes.
//
// Limits: kKeysMax keys, kValueBytesMax bytes a value; beyond them a write is refused.
// Thread-safety: none.
#include <map>
#include <optional>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/lock/operation.h"

namespace phalanx::lock {

class FencedStorage {
 public:
  static constexpr std::size_t kKeysMax = 10'000;
  static constexpr std::size_t kValueBytesMax = 1 << 20;

  // Stores `value` under `key` if `token` is at least the largest token of an accepted
  // write to `key` (and not 0); otherwise an Error that names both tokens.
  Status write(std::string_view key, std::string_view value, Token token);
  std::optional<std::string> read(std::string_view key) const;
  // The largest token of an accepted write to `key` (0: none yet).
  Token highest_token(std::string_view key) const;

 private:
  struct Entry {
    std::string value;
    Token highest_token = 0;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace phalanx::lock
