#pragma once
// One key's sub-history, as the linearizability search sees it (linearizability.h): the
// key's operations with their values numbered, and the sequential map's rule for one
// step. Internal to adversary/.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "phalanx/adversary/history.h"

namespace phalanx::adversary::per_key {

// The model's state for one key: an index into the key's distinct values, or kAbsent.
using ValueId = std::uint32_t;
constexpr ValueId kAbsent = 0;

// One operation of one key, as the search sees it.
struct KeyOperation {
  const KvOperation* source = nullptr;
  ValueId value = kAbsent;  // put: the value written; get: the value read (kAbsent: none)
  // The reply; for an operation without one, the last reply of a get that could have seen
  // its effect: taking effect later changes nothing a client saw.
  std::uint64_t deadline_ns = 0;
  bool optional = false;  // no reply: it may be left out
};

// One key's sub-history, with the operations that cannot matter left out.
struct KeyHistory {
  std::string_view key;
  std::vector<KeyOperation> operations;
  std::vector<std::string_view> values;  // by ValueId; values[kAbsent] unused
  std::vector<bool> value_written;       // by ValueId: some put of this key writes it
  std::uint64_t left_out = 0;            // without a reply and unobservable
};

// The sequential map, restricted to one key: the state after `operation`, or none when
// the operation's result is not what the map would have returned.
std::optional<ValueId> step(ValueId state, const KeyOperation& operation);

// `key`'s operations, with the writes without a reply that no get can see left out, in
// deadline order (key_history.cc says why each is kept or left out).
KeyHistory key_history(std::string_view key, const std::vector<const KvOperation*>& operations);

}  // namespace phalanx::adversary::per_key
