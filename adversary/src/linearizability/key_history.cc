#include "linearizability/key_history.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "phalanx/base/assert.h"

namespace phalanx::adversary::per_key {

std::optional<ValueId> step(ValueId state, const KeyOperation& operation) {
  switch (operation.source->kind) {
    case KvOperationKind::kPut:
      return operation.value;
    case KvOperationKind::kDel:
      return kAbsent;
    case KvOperationKind::kGet:
      if (state != operation.value) return std::nullopt;
      return state;
  }
  PHALANX_ASSERT(false, "unknown operation kind");
  return std::nullopt;
}

// A write without a reply matters only while some get may still see what it wrote (its
// value; nothing, for a del): one that takes effect after the last reply of such a get is
// followed by no read until the next write, so leaving it out changes no result. Hence
// its deadline; and without such a get, or with only gets that replied before it was
// called, it is left out at once. A get without a reply constrains nothing.
KeyHistory key_history(std::string_view key, const std::vector<const KvOperation*>& operations) {
  KeyHistory history{key, {}, {""}, {false}, 0};
  std::map<std::string_view, ValueId> ids;
  auto id_of = [&](const std::string& value) {
    if (value.empty()) return kAbsent;
    auto [found, added] = ids.emplace(value, static_cast<ValueId>(history.values.size()));
    if (added) {
      history.values.push_back(value);
      history.value_written.push_back(false);
    }
    return found->second;
  };
  std::vector<std::optional<std::uint64_t>> last_read_ns;  // by ValueId
  for (const KvOperation* operation : operations) {
    ValueId value = id_of(operation->value);
    last_read_ns.resize(history.values.size());
    if (operation->kind == KvOperationKind::kPut) history.value_written[value] = true;
    if (operation->kind != KvOperationKind::kGet || !operation->completed()) continue;
    last_read_ns[value] = std::max(last_read_ns[value].value_or(0), *operation->complete_ns);
  }
  for (const KvOperation* operation : operations) {
    ValueId value = id_of(operation->value);
    if (operation->completed()) {
      history.operations.push_back({operation, value, *operation->complete_ns, false});
    } else if (operation->kind != KvOperationKind::kGet && last_read_ns[value] &&
               *last_read_ns[value] >= operation->invoke_ns) {
      history.operations.push_back({operation, value, *last_read_ns[value], true});
    } else {
      ++history.left_out;
    }
  }
  // Numbered in deadline order, the operations decided so far are all those below the first
  // undecided one plus a few above it (see KeySearch::remember); within one deadline, in
  // call order, the order in which KeySearch uses optional writes of one effect.
  std::stable_sort(history.operations.begin(), history.operations.end(),
                   [](const KeyOperation& a, const KeyOperation& b) {
                     return std::pair(a.deadline_ns, a.source->invoke_ns) <
                            std::pair(b.deadline_ns, b.source->invoke_ns);
                   });
  return history;
}

}  // namespace phalanx::adversary::per_key
