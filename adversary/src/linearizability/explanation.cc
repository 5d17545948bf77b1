#include "linearizability/explanation.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "phalanx/base/assert.h"

namespace phalanx::adversary::per_key {

namespace {

// The shown part of an explanation: enough to see the problem, short enough to read.
constexpr std::size_t kExplainedPrefixOperationsMax = 10;
constexpr std::size_t kExplainedCandidatesMax = 10;

std::string line_of(const KeyOperation& operation) {
  auto line = format_kv_operation(*operation.source);
  PHALANX_ASSERT(line.ok(), "a validated operation formats");
  return line.value();
}

std::string holds_text(const KeyHistory& history, ValueId state) {
  return state == kAbsent
             ? std::string(history.key) + " is absent"
             : std::string(history.key) + " holds " + std::string(history.values[state]);
}

// Why `operation` cannot come right after the deepest decisions, whose end state is `state`.
std::string why_not_next(const KeyHistory& history, const KeyOperation& operation, ValueId state) {
  if (step(state, operation)) return "fits, but nothing fits after it";
  std::string reads = operation.value == kAbsent
                          ? "finds nothing"
                          : "reads " + std::string(history.values[operation.value]);
  if (operation.value != kAbsent && !history.value_written[operation.value])
    reads += " (no put of " + std::string(history.key) + " writes it)";
  auto writer = std::find_if(
      history.operations.begin(), history.operations.end(), [&](const KeyOperation& other) {
        return other.source->kind == KvOperationKind::kPut && other.value == operation.value;
      });
  if (operation.value != kAbsent && writer != history.operations.end())
    reads += " (written by `" + line_of(*writer) + "`)";
  return reads + ", but " + holds_text(history, state) + " there";
}

// Replays the deepest decisions: the operations that took effect (the last few shown), the
// state after them, and which operations they decided.
std::string explain_deepest(const KeyHistory& history, const KeySearch& search,
                            std::vector<bool>& decided, ValueId& state) {
  std::vector<std::uint32_t> took_effect;
  for (auto [operation, effect] : search.deepest()) {
    decided[operation] = true;
    if (effect) took_effect.push_back(operation);
  }
  std::string text =
      "the longest order that fits has " + std::to_string(took_effect.size()) + " operations" +
      (took_effect.size() > kExplainedPrefixOperationsMax ? "; its last ones:\n" : ":\n");
  std::size_t shown_from =
      took_effect.size() - std::min(took_effect.size(), kExplainedPrefixOperationsMax);
  for (std::size_t i = 0; i < took_effect.size(); ++i) {
    auto after = step(state, history.operations[took_effect[i]]);
    PHALANX_ASSERT(after.has_value(), "the deepest order found fits the map");
    state = *after;
    if (i >= shown_from) text += "  " + line_of(history.operations[took_effect[i]]) + "\n";
  }
  return text + "after it " + holds_text(history, state) + "\n";
}

}  // namespace

std::string explain_failure(const KeyHistory& history, const KeySearch& search) {
  const auto& operations = history.operations;
  std::string text = "key " + std::string(history.key) + ": no order of its " +
                     std::to_string(operations.size()) +
                     " operations that real time permits fits a sequential map";
  if (history.left_out > 0)
    text += " (" + std::to_string(history.left_out) +
            " without a reply that no get could see are left out)";
  text += "\n";
  std::vector<bool> decided(operations.size(), false);
  ValueId state = kAbsent;
  text += explain_deepest(history, search, decided, state);
  // The search tried, next, the calls before the first reply (deadline) left.
  std::vector<std::uint32_t> candidates;
  std::size_t optional_writes = 0;
  std::optional<std::uint32_t> blocker;
  for (auto [operation, call] : search.events()) {
    if (decided[operation]) continue;
    if (!call) {
      blocker = operation;
      break;
    }
    if (operations[operation].optional) {
      ++optional_writes;
    } else {
      candidates.push_back(operation);
    }
  }
  PHALANX_ASSERT(blocker.has_value(), "a failed search leaves a reply undecided");
  const KeyOperation& blocking = operations[*blocker];
  text += blocking.optional
              ? "`" + line_of(blocking) + "` (no reply) can be seen by no get after this; " +
                    "leaving it out fails, and none of these can come next:\n"
              : "`" + line_of(blocking) + "` replies next; one of these must come before, " +
                    "and none can:\n";
  for (std::size_t i = 0; i < candidates.size() && i < kExplainedCandidatesMax; ++i)
    text += "  " + line_of(operations[candidates[i]]) + ": " +
            why_not_next(history, operations[candidates[i]], state) + "\n";
  if (candidates.size() > kExplainedCandidatesMax)
    text += "  ... and " + std::to_string(candidates.size() - kExplainedCandidatesMax) + " more\n";
  if (optional_writes > 0)
    text += "(" + std::to_string(optional_writes) +
            " writes without a reply could take effect here too; none makes these fit)\n";
  text.pop_back();  // the last newline
  return text;
}

}  // namespace phalanx::adversary::per_key
