#include "phalanx/lock/fenced_storage.h"

namespace phalanx::lock {

Status FencedStorage::write(std::string_view key, std::string_view value, Token token) {
  if (token == 0) return Error{"token 0: the lock service grants tokens from 1"};
  if (value.size() > kValueBytesMax)
    return Error{"value of " + std::to_string(value.size()) + " bytes: at most " +
                 std::to_string(kValueBytesMax)};
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= kKeysMax)
      return Error{"storage full: " + std::to_string(kKeysMax) + " keys"};
    found = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& entry = found->second;
  if (token < entry.highest_token)
    return Error{"token " + std::to_string(token) + " is older than token " +
                 std::to_string(entry.highest_token) + ", already used to write '" +
                 std::string(key) + "'"};
  entry.value = std::string(value);
  entry.highest_token = token;
  return ok_status();
}

std::optional<std::string> FencedStorage::read(std::string_view key) const {
  auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  return found->second.value;
}

Token FencedStorage::highest_token(std::string_view key) const {
  auto found = entries_.find(key);
  return found == entries_.end() ? 0 : found->second.highest_token;
}

}  // namespace phalanx::lock
