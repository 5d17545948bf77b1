#include "phalanx/adversary/linearizability.h"

#include <algorithm>
#include <bit>
#include <initializer_list>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

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

namespace {

// The shown part of an explanation: enough to see the problem, short enough to read.
constexpr std::size_t kExplainedPrefixOperationsMax = 10;
constexpr std::size_t kExplainedCandidatesMax = 10;

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

// Wing & Gong's search with Lowe's memo over one key's operations (linearizability.h).
// Each operation has a call and a reply (its deadline) in a list in time order. The search
// decides operations one at a time: one whose call comes before the first reply left in
// the list takes effect next, or, at that reply, an optional operation is left out. When
// nothing more can be decided, it takes back the last decision and tries the next choice.
//
// Optional operations (writes without a reply) take effect only just before a get that
// reads what they wrote: in an order that fits, one followed by another write can be left
// out, as no read sees it. Of those with one effect (one value written, or the key
// removed), which share one deadline, the one called first goes first: an order using
// another while it is undecided has a twin with the two swapped. Without these two rules
// the k writes of an effect would bring 2^k subsets into the memo. Removals without a
// reply, often many with one late deadline (the last get that found nothing), also make
// states differ only in how many are left; as they go in call order, the count says which
// are left, and a state that failed with more left shows that it fails with fewer.
class KeySearch {
 public:
  enum class Outcome { kLinearizable, kNotLinearizable, kOutOfBudget };
  struct Decision {
    std::uint32_t operation;
    bool took_effect;  // false: an optional operation left out
  };
  struct Event {
    std::uint32_t operation;
    bool call;  // else the reply (the deadline)
  };

  explicit KeySearch(const KeyHistory& history);
  KeySearch(const KeySearch&) = delete;  // memo_ points into this object
  KeySearch& operator=(const KeySearch&) = delete;
  Outcome run(std::uint64_t states_max);

  std::uint64_t states_explored() const { return memo_.size(); }
  // The longest sequence of decisions the search made.
  const std::vector<Decision>& deepest() const { return deepest_; }
  const std::vector<Event>& events() const { return events_; }  // in time order

 private:
  static constexpr std::uint32_t kHead = 0;  // list sentinel; entry e is events_[e - 1]

  // Where the search looks next: an entry, and whether this pass over the calls before the
  // first reply is the second, for gets that need an optional write just before them.
  // Trying what consumes no optional write first lets remember() prune more.
  struct Scan {
    std::uint32_t entry;
    bool with_writes;
  };
  struct Frame {
    Decision decision;
    ValueId state_before;
    bool with_writes;  // made in the second pass
    bool with_next;    // an optional write taken back with the get after it
  };
  // Operations as a bitset, in deadline order.
  struct OperationSet {
    std::vector<std::uint64_t> words;
    std::size_t words_end = 0;  // zero from this word on
    std::uint64_t hash = 0;     // the shares of its members
    bool contains(std::uint32_t operation) const {
      return (words[operation / 64] >> (operation % 64)) & 1;
    }
    void flip(std::uint32_t operation, std::uint64_t share);
  };
  // A state explored: the operations decided but the optional removals (all below
  // first_outside, and the words of the set from first_outside's on, kept in memo_words_),
  // how many removals are left, and the value of the key.
  struct Memo {
    std::uint64_t hash;
    std::uint64_t words_at;
    std::uint32_t words;
    std::uint32_t first_outside;
    std::uint32_t removals_left;
    ValueId state;
  };
  struct MemoHash {
    std::size_t operator()(const Memo& memo) const { return memo.hash; }
  };
  struct MemoEqual {
    const std::vector<std::uint64_t>* memo_words;
    bool operator()(const Memo& a, const Memo& b) const {
      auto words = memo_words->begin();
      return a.first_outside == b.first_outside && a.removals_left == b.removals_left &&
             a.state == b.state && a.words == b.words &&
             std::equal(words + a.words_at, words + a.words_at + a.words, words + b.words_at);
    }
  };

  bool try_call(std::uint32_t operation, bool with_writes);
  bool try_leave_out(std::uint32_t operation);
  bool decide_if_new(std::initializer_list<Decision> decisions, ValueId state_after,
                     bool with_writes);
  std::optional<std::uint32_t> writer_of(ValueId value);
  bool remember(ValueId state_after);
  Memo memo_of(ValueId state, std::uint32_t first_undecided);
  static std::uint64_t hash_of(const Memo& memo, std::uint64_t set_hash);
  void remember_failure();
  void decide(Decision decision, ValueId state_after, bool with_writes, bool with_next = false);
  Scan undo_last();
  std::uint32_t first_undecided_from(std::uint32_t operation) const;
  bool decided(std::uint32_t operation) const { return decided_.contains(operation); }
  void flip(std::uint32_t operation);
  void lift(std::uint32_t entry);
  void unlift(std::uint32_t entry);

  const KeyHistory& history_;
  std::vector<Event> events_;
  std::vector<std::uint32_t> call_entry_, return_entry_;  // by operation
  std::vector<std::uint32_t> next_, prev_;                // by entry: a circular list through kHead
  // By ValueId: the optional writes of that value (or removals, for kAbsent) in call order,
  // and where the first undecided one may be.
  std::vector<std::vector<std::uint32_t>> writers_;
  std::vector<std::size_t> writer_next_;
  std::vector<std::size_t> writer_index_;  // by operation: its place in writers_
  OperationSet decided_;
  OperationSet decided_but_removals_;  // decided_ without the optional removals
  std::uint32_t first_undecided_ = 0;
  std::uint32_t removals_left_ = 0;     // optional removals undecided
  std::vector<std::uint64_t> zobrist_;  // by operation: its share of a set's hash
  ValueId state_ = kAbsent;
  std::uint64_t mandatory_undecided_ = 0;
  std::vector<Frame> stack_;
  std::vector<std::uint64_t> memo_words_;
  std::unordered_set<Memo, MemoHash, MemoEqual> memo_{0, MemoHash{}, MemoEqual{&memo_words_}};
  // States that failed, without the optional removals: the most removals left with which
  // one failed.
  std::unordered_map<Memo, std::uint32_t, MemoHash, MemoEqual> failed_{0, MemoHash{},
                                                                       MemoEqual{&memo_words_}};
  std::vector<Decision> deepest_;
};

// splitmix64: spreads consecutive numbers over 64 bits, for hashing.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

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

// --- Explanations ---------------------------------------------------------------------

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

}  // namespace

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
    KeyHistory sub_history = key_history(key, operations);
    KeySearch search(sub_history);
    auto outcome = search.run(options.states_per_key_max);
    report.states_explored += search.states_explored();
    if (outcome == KeySearch::Outcome::kNotLinearizable) {
      report.verdict = Linearizability::kNotLinearizable;
      report.key = key;
      report.explanation = explain_failure(sub_history, search);
      return report;
    }
    if (outcome == KeySearch::Outcome::kOutOfBudget &&
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
