#include "phalanx/adversary/linearizability.h"

#include <map>
#include <string>
#include <vector>

#include "linearizability/explanation.h"
#include "linearizability/key_history.h"
#include "linearizability/key_search.h"
#include "phalanx/base/assert.h"

namespace phalanx::adversary {

std::string_view to_string(Linearizability verdict) {
  switch (verdict) {
    case Linearizability::kLinearizable:
      return "linearizable";
    case Linearizability::kNotLinearizable:
      return "not linearizable";
    case Linearizability::kUnknown:
      return "unknown";
  }
  return "unknown verdict";
}

LinearizabilityReport check_linearizability(const KvHistory& history,
                                            const LinearizabilityOptions& options) {
  PHALANX_ASSERT(validate_kv_history(history).ok(),
                 "check_linearizability: the history breaks history.h's rules");
  PHALANX_ASSERT(options.states_per_key_max > 0, "a search needs a budget");
  LinearizabilityReport report;
  std::map<std::string_view, std::vector<const KvOperation*>> by_key;
  for (const KvOperation& operation : history.operations) {
    by_key[operation.key].push_back(&operation);
    report.incomplete_operations += operation.completed() ? 0 : 1;
  }
  report.operations = history.operations.size();
  report.keys = by_key.size();
  for (const auto& [key, operations] : by_key) {
    per_key::KeyHistory sub_history = per_key::key_history(key, operations);
    per_key::KeySearch search(sub_history);
    auto outcome = search.run(options.states_per_key_max);
    report.states_explored += search.states_explored();
    if (outcome == per_key::KeySearch::Outcome::kNotLinearizable) {
      report.verdict = Linearizability::kNotLinearizable;
      report.key = key;
      report.explanation = per_key::explain_failure(sub_history, search);
      return report;
    }
    if (outcome == per_key::KeySearch::Outcome::kOutOfBudget &&
        report.verdict == Linearizability::kLinearizable) {
      report.verdict = Linearizability::kUnknown;
      report.key = key;
      report.explanation = "key " + std::string(key) + ": no verdict for its " +
                           std::to_string(sub_history.operations.size()) + " operations within " +
                           std::to_string(options.states_per_key_max) +
                           " states explored (raise the budget)";
    }
  }
  return report;
}

}  // namespace phalanx::adversary
