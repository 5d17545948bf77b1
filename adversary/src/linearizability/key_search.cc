#include "linearizability/key_search.h"

#include <algorithm>
#include <bit>
#include <tuple>
#include <utility>

#include "phalanx/base/assert.h"

namespace phalanx::adversary::per_key {

namespace {
// splitmix64: spreads consecutive numbers over 64 bits, for hashing.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

KeySearch::KeySearch(const KeyHistory& history) : history_(history) {
  const auto& operations = history.operations;
  PHALANX_ASSERT(operations.size() < UINT32_MAX / 2, "too many operations on one key");
  std::vector<std::pair<std::uint64_t, Event>> timed;
  writers_.resize(history.values.size());
  writer_next_.resize(history.values.size(), 0);
  writer_index_.resize(operations.size(), 0);
  for (std::uint32_t i = 0; i < operations.size(); ++i) {
    PHALANX_ASSERT(i == 0 || operations[i - 1].deadline_ns <= operations[i].deadline_ns,
                   "operations come in deadline order");
    PHALANX_ASSERT(operations[i].source->invoke_ns <= operations[i].deadline_ns,
                   "an operation's deadline is after its call");
    timed.push_back({operations[i].source->invoke_ns, {i, true}});
    timed.push_back({operations[i].deadline_ns, {i, false}});
    mandatory_undecided_ += operations[i].optional ? 0 : 1;
    if (operations[i].optional) writers_[operations[i].value].push_back(i);
    zobrist_.push_back(mix(i));
  }
  // Calls before replies at one instant: such operations count as concurrent. Replies of
  // one instant in operation order, so the first reply in the list is the first undecided
  // operation's.
  std::sort(timed.begin(), timed.end(), [](const auto& a, const auto& b) {
    return std::tuple(a.first, !a.second.call, a.second.operation) <
           std::tuple(b.first, !b.second.call, b.second.operation);
  });
  call_entry_.resize(operations.size());
  return_entry_.resize(operations.size());
  for (const auto& [at_ns, event] : timed) {
    events_.push_back(event);
    auto entry = static_cast<std::uint32_t>(events_.size());
    (event.call ? call_entry_ : return_entry_)[event.operation] = entry;
  }
  auto entries = static_cast<std::uint32_t>(events_.size()) + 1;  // with kHead
  for (std::uint32_t entry = 0; entry < entries; ++entry) {
    next_.push_back((entry + 1) % entries);
    prev_.push_back((entry + entries - 1) % entries);
  }
  for (const auto& writers : writers_) {
    for (std::size_t i = 0; i < writers.size(); ++i) {
      PHALANX_ASSERT(i == 0 || operations[writers[i - 1]].source->invoke_ns <=
                                   operations[writers[i]].source->invoke_ns,
                     "optional writes of one effect are numbered in call order");
      writer_index_[writers[i]] = i;
    }
  }
  removals_left_ = static_cast<std::uint32_t>(writers_[kAbsent].size());
  decided_.words.assign((operations.size() + 63) / 64, 0);
  decided_but_removals_.words = decided_.words;
}

KeySearch::Outcome KeySearch::run(std::uint64_t states_max) {
  Scan scan{next_[kHead], false};
  while (mandatory_undecided_ > 0) {
    // An undecided operation with a reply keeps that reply in the list.
    PHALANX_ASSERT(scan.entry != kHead, "list ran out before every reply was decided");
    auto [operation, call] = events_[scan.entry - 1];
    if (call ? try_call(operation, scan.with_writes)
             : scan.with_writes && try_leave_out(operation)) {
      if (memo_.size() > states_max) return Outcome::kOutOfBudget;
      scan = {next_[kHead], false};
      continue;
    }
    if (call) {
      scan.entry = next_[scan.entry];
      continue;
    }
    if (!scan.with_writes) {
      scan = {next_[kHead], true};
      continue;
    }
    // Nothing called later may come before this reply, and nothing left fits before it.
    if (stack_.empty()) return Outcome::kNotLinearizable;
    scan = undo_last();
  }
  return Outcome::kLinearizable;
}

// Decides that `operation` takes effect next, if the map allows and the state is new; in
// the second pass, a get that the map does not allow, right after an optional write of
// its value.
bool KeySearch::try_call(std::uint32_t operation, bool with_writes) {
  const KeyOperation& candidate = history_.operations[operation];
  if (candidate.optional) return false;
  auto state_after = step(state_, candidate);
  if (!with_writes) return state_after && decide_if_new({{operation, true}}, *state_after, false);
  if (state_after || candidate.source->kind != KvOperationKind::kGet) return false;
  auto writer = writer_of(candidate.value);
  // The write must be called before the first reply in the list, which is the first
  // undecided operation's.
  if (!writer || call_entry_[*writer] > return_entry_[first_undecided_]) return false;
  return decide_if_new({{*writer, true}, {operation, true}}, candidate.value, true);
}

// At its deadline, decides that an optional operation never took effect, if the state is new.
bool KeySearch::try_leave_out(std::uint32_t operation) {
  return history_.operations[operation].optional &&
         decide_if_new({{operation, false}}, state_, true);
}

// Makes `decisions` (one; or an optional write, then the get that reads it) if the state
// they lead to is new.
bool KeySearch::decide_if_new(std::initializer_list<Decision> decisions, ValueId state_after,
                              bool with_writes) {
  for (Decision decision : decisions) flip(decision.operation);
  if (!remember(state_after)) {
    for (Decision decision : decisions) flip(decision.operation);
    return false;
  }
  std::size_t left = decisions.size();
  for (Decision decision : decisions) decide(decision, state_after, with_writes, --left > 0);
  return true;
}

// The first undecided optional write of `value` (the one called first).
std::optional<std::uint32_t> KeySearch::writer_of(ValueId value) {
  const auto& writers = writers_[value];
  std::size_t& next = writer_next_[value];
  while (next < writers.size() && decided(writers[next])) ++next;
  if (next == writers.size()) return std::nullopt;
  return writers[next];
}

// Whether (the operations decided, state_after) is new, and not shown to fail with more
// removals left; if so, it is remembered. Every reply before the first one left in the
// list is decided, so in deadline order the decided operations are all those below the
// first undecided one, plus some called before its deadline: the memo keeps that number
// and the words of the set from there on, a few words however long the history. The
// removals, whose deadline is late, are kept as a count.
bool KeySearch::remember(ValueId state_after) {
  std::uint32_t first_undecided = first_undecided_from(first_undecided_);
  Memo memo = memo_of(state_after, first_undecided);
  if (!writers_[kAbsent].empty()) {
    Memo without_removals = memo;
    without_removals.removals_left = 0;
    without_removals.hash = hash_of(without_removals, decided_but_removals_.hash);
    auto failed = failed_.find(without_removals);
    if (failed != failed_.end() && failed->second >= removals_left_) {
      memo_words_.resize(memo.words_at);
      return false;
    }
  }
  if (!memo_.insert(memo).second) {
    memo_words_.resize(memo.words_at);
    return false;
  }
  first_undecided_ = first_undecided;
  return true;
}

// The memo's form of the current decisions with `state`; its words go to memo_words_.
KeySearch::Memo KeySearch::memo_of(ValueId state, std::uint32_t first_undecided) {
  const OperationSet& set = decided_but_removals_;
  const auto& removals = writers_[kAbsent];
  std::uint32_t first_outside =
      removals.empty() ? first_undecided : std::min(first_undecided, removals[0]);
  std::size_t word_first = first_outside / 64;
  std::size_t words = set.words_end > word_first ? set.words_end - word_first : 0;
  Memo memo{.hash = 0,
            .words_at = memo_words_.size(),
            .words = static_cast<std::uint32_t>(words),
            .first_outside = first_outside,
            .removals_left = removals_left_,
            .state = state};
  memo.hash = hash_of(memo, set.hash);
  memo_words_.insert(memo_words_.end(), set.words.begin() + static_cast<std::ptrdiff_t>(word_first),
                     set.words.begin() + static_cast<std::ptrdiff_t>(word_first + words));
  return memo;
}

std::uint64_t KeySearch::hash_of(const Memo& memo, std::uint64_t set_hash) {
  return set_hash ^ mix(std::uint64_t{memo.removals_left} << 32 | memo.state);
}

// The current state failed: with the optional removals left out of the state, it fails
// with as many removals left as now, or fewer.
void KeySearch::remember_failure() {
  if (writers_[kAbsent].empty()) return;
  Memo key = memo_of(state_, first_undecided_);
  key.removals_left = 0;
  key.hash = hash_of(key, decided_but_removals_.hash);
  auto [failed, added] = failed_.try_emplace(key, removals_left_);
  if (added) return;
  memo_words_.resize(key.words_at);
  failed->second = std::max(failed->second, removals_left_);
}

std::uint32_t KeySearch::first_undecided_from(std::uint32_t operation) const {
  auto operations = static_cast<std::uint32_t>(history_.operations.size());
  while (operation < operations) {
    std::uint64_t undecided = ~decided_.words[operation / 64] >> (operation % 64);
    if (undecided != 0) return std::min(operations, operation + std::countr_zero(undecided));
    operation = (operation / 64 + 1) * 64;
  }
  return operations;
}

// Records a decision that remember() accepted (its bit is already set); with_next: it is
// taken back with the one after it.
void KeySearch::decide(Decision decision, ValueId state_after, bool with_writes, bool with_next) {
  PHALANX_ASSERT(decided(decision.operation), "remember() before decide()");
  stack_.push_back({decision, state_, with_writes, with_next});
  state_ = state_after;
  lift(call_entry_[decision.operation]);
  lift(return_entry_[decision.operation]);
  if (!history_.operations[decision.operation].optional) --mandatory_undecided_;
  if (stack_.size() > deepest_.size()) {
    deepest_.clear();
    for (const Frame& frame : stack_) deepest_.push_back(frame.decision);
  }
}

// Takes back the last decision (with the write it came with); returns the entry where the
// search resumes: after the call it took, or at the reply where it left the operation out,
// which is then spent.
KeySearch::Scan KeySearch::undo_last() {
  remember_failure();
  Scan resume{kHead, true};
  do {
    PHALANX_ASSERT(!stack_.empty(), "no decision to take back");
    Frame frame = stack_.back();
    stack_.pop_back();
    std::uint32_t operation = frame.decision.operation;
    state_ = frame.state_before;
    flip(operation);
    unlift(return_entry_[operation]);
    unlift(call_entry_[operation]);
    first_undecided_ = std::min(first_undecided_, operation);
    const KeyOperation& undone = history_.operations[operation];
    if (undone.optional) {
      writer_next_[undone.value] = std::min(writer_next_[undone.value], writer_index_[operation]);
    } else {
      ++mandatory_undecided_;
    }
    if (resume.entry == kHead)
      resume = frame.decision.took_effect ? Scan{next_[call_entry_[operation]], frame.with_writes}
                                          : Scan{return_entry_[operation], true};
  } while (!stack_.empty() && stack_.back().with_next);
  return resume;
}

void KeySearch::flip(std::uint32_t operation) {
  decided_.flip(operation, zobrist_[operation]);
  const KeyOperation& flipped = history_.operations[operation];
  if (!flipped.optional || flipped.value != kAbsent) {
    decided_but_removals_.flip(operation, zobrist_[operation]);
  } else {
    removals_left_ = decided_.contains(operation) ? removals_left_ - 1 : removals_left_ + 1;
  }
}

void KeySearch::OperationSet::flip(std::uint32_t operation, std::uint64_t share) {
  std::size_t word = operation / 64;
  words[word] ^= std::uint64_t{1} << (operation % 64);
  hash ^= share;
  words_end = std::max(words_end, words[word] != 0 ? word + 1 : 0);
  while (words_end > 0 && words[words_end - 1] == 0) --words_end;
}

// Dancing links: an entry taken out keeps its neighbours, so putting entries back in the
// reverse order restores the list.
void KeySearch::lift(std::uint32_t entry) {
  next_[prev_[entry]] = next_[entry];
  prev_[next_[entry]] = prev_[entry];
}

void KeySearch::unlift(std::uint32_t entry) {
  next_[prev_[entry]] = entry;
  prev_[next_[entry]] = entry;
}

}  // namespace phalanx::adversary::per_key
