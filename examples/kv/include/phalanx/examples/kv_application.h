#pragma once
// A replicated key-value store: the simplest complete Application, used by the
// simulator tests, phalanx-replica and phalanx-client.
//
// Operations (encode with the kv:: helpers, never by hand):
//   put(key, value) -> "ok"; get(key) -> value or "" with found=false; del(key) -> "ok".
// Results are encoded as one status byte ('+' found / ok, '-' not found or bad operation)
// followed by the value. A malformed operation is not an error of the replica: it is
// executed deterministically as a no-op with result "-bad operation".
// Thread-safety: none (a replica calls its application from one thread).

#include <map>
#include <optional>
#include <string>

#include "phalanx/pbft/application.h"

namespace phalanx::examples {

namespace kv {
Bytes put(std::string_view key, std::string_view value);
Bytes get(std::string_view key);
Bytes del(std::string_view key);

struct Result {
  bool ok = false;    // put/del succeeded, or get found the key
  std::string value;  // the value for get; an error text for a bad operation
};
std::optional<Result> decode_result(ByteView result);
}  // namespace kv

class KvApplication final : public pbft::Application {
 public:
  Bytes execute(ByteView operation, const pbft::RequestContext& context) override;
  Bytes snapshot() const override;
  Status restore(ByteView snapshot) override;

  const std::map<std::string, std::string>& entries() const { return entries_; }
  std::uint64_t executed_count() const { return executed_count_; }

 private:
  std::map<std::string, std::string> entries_;
  std::uint64_t executed_count_ = 0;
};

}  // namespace phalanx::examples
