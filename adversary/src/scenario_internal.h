#pragma once
// Shared by the scenario file's reader (scenario.cc) and its rules (scenario_rules.cc).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phalanx/adversary/scenario.h"
#include "phalanx/pbft/toml_file.h"

namespace phalanx::adversary::scenario_detail {

using Problems = pbft::FileProblems;

// One kind of [[fault]]: its name in the file and the keys it takes.
struct FaultKindInfo {
  std::string_view name;
  Fault::Kind kind;
  std::vector<std::string_view> keys;  // besides kind and at_ms
  std::vector<std::string_view> required;
};
const std::vector<FaultKindInfo>& fault_kinds();

// Where things were in the file, for the rules checked once all of it was read.
struct Lines {
  std::size_t outcome = 0;
  std::size_t caught = 0;
};

// Crashes, rejoins and amnesia of one replica do not overlap; not too many faults.
void check_schedule(const Scenario& scenario, Problems& problems);
// At most f faulty replicas for outcome = "safe"; only faulty replicas can be caught.
void check_expectation(const Scenario& scenario, const Lines& lines, Problems& problems);

}  // namespace phalanx::adversary::scenario_detail
