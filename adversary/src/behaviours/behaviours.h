#pragma once
// The constructors of the behaviours behaviour.cc lists by name; one file each.
#include <memory>

#include "phalanx/adversary/behaviour.h"

namespace phalanx::adversary {

// Each returns an Error for a bad or unknown parameter.
Result<std::unique_ptr<Behaviour>> make_corrupt_chunks(BehaviourContext context);

}  // namespace phalanx::adversary
