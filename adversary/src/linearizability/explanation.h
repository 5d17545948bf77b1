#pragma once
// Why a key's history is not linearizable, in words a reader can check against the
// history file: the longest order that fits, and why none of the next candidates does.
// Internal to adversary/.
#include <string>

#include "linearizability/key_history.h"
#include "linearizability/key_search.h"

namespace phalanx::adversary::per_key {

// After `search` failed on `history`.
std::string explain_failure(const KeyHistory& history, const KeySearch& search);

}  // namespace phalanx::adversary::per_key
