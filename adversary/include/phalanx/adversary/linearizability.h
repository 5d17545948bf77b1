#pragma once
// check_linearizability(): whether the operations of a KvHistory (history.h) could have
// taken effect one at a time, on one sequential key-value map, each at an instant between
// its invocation and its reply. That is linearizability (Herlihy & Wing, 1990), the promise
// a replicated store makes to its clients: it behaves as one map, in real-time order.
//
// What a verdict proves:
// - kLinearizable: such an order exists. The checker found one; the verdict is never given
//   on a guess or when the budget ran out.
// - kNotLinearizable: no such order exists. The search covered every order real time
//   permits, but for those it skips because an equivalent one was tried or a state on the
//   way was already shown to fail; the explanation names the key, the longest order found
//   that fits, and why each operation that could come next does not.
// - kUnknown: the budget ran out on some key before either was shown.
//
// The model: put(key, value) sets the key and returns ok; del(key) removes it and returns
// ok, present or not; get(key) returns the value, or not found (examples/kv). An operation
// without a reply may take effect at any instant after its invocation, or never: a get
// without a reply constrains nothing and is left out; a put or del without a reply is
// placed anywhere after its invocation or left out.
//
// Method: operations on different keys commute, so the map is linearizable if and only if
// each key's sub-history is (Herlihy & Wing's locality); keys are checked one by one, in
// key order, stopping at the first that is not linearizable. Per key: the Wing & Gong
// search with Lowe's improvements ("Testing for linearizability", 2017), as in Porcupine:
// calls and replies in time order on a linked list, depth-first placement of an operation
// whose call comes before the first reply still in the list, backtracking at that reply,
// and a memo of (operations decided, value of the key) so no state is explored twice. A
// reply and a call at the same instant count as concurrent.
//
// Writes without a reply would let the search place each one anywhere after its call; what
// keeps that small, each step sound (it drops only orders that have an equivalent kept):
// - A write matters only while some get may still see its effect (its value; nothing, for
//   a del): its deadline is the last reply of such a get, and without one it is left out.
// - It takes effect only just before a get that reads it (in an order that fits, one
//   followed by another write can be left out), else it is left out at its deadline.
// - Writes of one effect share a deadline, so they are used in the order of their calls.
// - Dels without a reply make states differ in how many are left: a state that failed with
//   more left proves that the same state with fewer left fails.
// Even so a long history of one key with many dels without a reply can need millions of
// states to prove a violation deep in it; a chaos test keeps keys to a few thousand
// operations each.
//
// Cost: about 100 bytes of memo per state explored, plus a bit per operation in flight, so
// the default budget stays near 200 MB and a few seconds for one key.
// Thread-safety: none; check_linearizability() is a pure function of its arguments.

#include <cstdint>
#include <string>
#include <string_view>

#include "phalanx/adversary/history.h"

namespace phalanx::adversary {

struct LinearizabilityOptions {
  // States explored for one key before its verdict is kUnknown: bounds time and memory.
  std::uint64_t states_per_key_max = 2'000'000;
};

enum class Linearizability { kLinearizable, kNotLinearizable, kUnknown };
std::string_view to_string(Linearizability verdict);

struct LinearizabilityReport {
  Linearizability verdict = Linearizability::kLinearizable;
  // kNotLinearizable: the key whose operations cannot be ordered; kUnknown: the first key
  // whose search ran out of budget. Empty when linearizable.
  std::string key;
  std::string explanation;                  // lines for a person, when not linearizable or unknown
  std::uint64_t operations = 0;             // in the history
  std::uint64_t incomplete_operations = 0;  // of those, without a reply
  std::uint64_t keys = 0;                   // distinct keys in the history
  std::uint64_t states_explored = 0;        // over the keys searched
};

// Precondition: validate_kv_history(history) is ok (parse_kv_history's output always is).
LinearizabilityReport check_linearizability(const KvHistory& history,
                                            const LinearizabilityOptions& options = {});

}  // namespace phalanx::adversary
