#pragma once
// The search for an order of one key's operations that fits a sequential map (Wing & Gong,
// with Lowe's memo and the pruning described below). Internal to adversary/.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "linearizability/key_history.h"

namespace phalanx::adversary::per_key {

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

}  // namespace phalanx::adversary::per_key
