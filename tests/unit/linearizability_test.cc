// The KV linearizability checker (adversary/linearizability.h) and its history format
// (adversary/history.h): the classic cases by hand, the format's round trip and its
// errors, the budget, and histories of simulated clients over many seeds, which are
// linearizable as made and not once one read is made impossible.
#include "phalanx/adversary/linearizability.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "phalanx/adversary/history.h"

namespace phalanx::adversary {
namespace {

using Complete = std::optional<std::uint64_t>;
constexpr Complete kNoReply = std::nullopt;

KvOperation put(std::uint64_t client, std::string key, std::string value, std::uint64_t invoke_ns,
                Complete complete_ns) {
  return {client,     KvOperationKind::kPut, std::move(key), std::move(value), false, invoke_ns,
          complete_ns};
}

// `read`: the value found, or none for not found (or no reply).
KvOperation get(std::uint64_t client, std::string key, std::optional<std::string> read,
                std::uint64_t invoke_ns, Complete complete_ns) {
  return {client,           KvOperationKind::kGet,
          std::move(key),   read.value_or(""),
          read.has_value(), invoke_ns,
          complete_ns};
}

KvOperation del(std::uint64_t client, std::string key, std::uint64_t invoke_ns,
                Complete complete_ns) {
  return {client, KvOperationKind::kDel, std::move(key), "", false, invoke_ns, complete_ns};
}

LinearizabilityReport check(std::vector<KvOperation> operations,
                            LinearizabilityOptions options = {}) {
  return check_linearizability(KvHistory{std::move(operations)}, options);
}

Linearizability verdict(std::vector<KvOperation> operations) {
  return check(std::move(operations)).verdict;
}

constexpr auto kYes = Linearizability::kLinearizable;
constexpr auto kNo = Linearizability::kNotLinearizable;

// --- Classic cases ----------------------------------------------------------------------

TEST(Linearizability, SequentialHistoryIsLinearizable) {
  auto report =
      check({put(1, "k", "v1", 0, 10), get(2, "k", "v1", 20, 30), put(1, "k", "v2", 40, 50),
             get(2, "k", "v2", 60, 70), del(1, "k", 80, 90), get(2, "k", std::nullopt, 100, 110)});
  EXPECT_EQ(report.verdict, kYes);
  EXPECT_EQ(report.operations, 6u);
  EXPECT_EQ(report.keys, 1u);
  EXPECT_GE(report.states_explored, 6u);
  EXPECT_TRUE(report.explanation.empty());
}

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict({}), kYes);
}

TEST(Linearizability, GetOfAKeyNeverWrittenFindsNothing) {
  EXPECT_EQ(verdict({get(1, "k", std::nullopt, 0, 10)}), kYes);
  EXPECT_EQ(verdict({get(1, "k", "v1", 0, 10)}), kNo);
}

TEST(Linearizability, GetConcurrentWithPutMayReadEitherValue) {
  for (const char* read : {"v1", "v2"})
    EXPECT_EQ(
        verdict({put(1, "k", "v1", 0, 10), put(1, "k", "v2", 20, 60), get(2, "k", read, 30, 50)}),
        kYes)
        << read;
}

TEST(Linearizability, StaleReadAfterACompletedWriteIsNot) {
  auto report =
      check({put(1, "k", "v1", 0, 10), put(1, "k", "v2", 20, 30), get(2, "k", "v1", 40, 50)});
  EXPECT_EQ(report.verdict, kNo);
  EXPECT_EQ(report.key, "k");
  EXPECT_NE(report.explanation.find(
                "reads v1 (written by `client=1 op=put key=k value=v1 invoke=0 complete=10 "
                "result=ok`), but k holds v2 there"),
            std::string::npos)
      << report.explanation;
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsNot) {
  auto report = check({put(1, "k", "v1", 0, 10), get(2, "k", "v9", 20, 30)});
  EXPECT_EQ(report.verdict, kNo);
  EXPECT_NE(report.explanation.find("reads v9 (no put of k writes it)"), std::string::npos)
      << report.explanation;
}

TEST(Linearizability, ReadsMayNotSeeANewValueThenTheOldOne) {
  // Both gets overlap the put, but the first one returned before the second was called.
  EXPECT_EQ(verdict({put(1, "k", "v1", 0, 100), get(2, "k", "v1", 10, 20),
                     get(3, "k", std::nullopt, 30, 40)}),
            kNo);
  EXPECT_EQ(verdict({put(1, "k", "v1", 0, 100), get(2, "k", std::nullopt, 10, 20),
                     get(3, "k", "v1", 30, 40)}),
            kYes);
}

TEST(Linearizability, AReplyAndACallAtOneInstantAreConcurrent) {
  EXPECT_EQ(verdict({put(1, "k", "v1", 0, 10), get(2, "k", std::nullopt, 10, 20)}), kYes);
  EXPECT_EQ(verdict({put(1, "k", "v1", 0, 10), get(2, "k", std::nullopt, 11, 20)}), kNo);
}

TEST(Linearizability, IncompletePutMayTakeEffectOrNot) {
  auto base = std::vector{put(1, "k", "v1", 0, 10), put(1, "k", "v2", 20, kNoReply)};
  auto with = [&](std::vector<KvOperation> reads) {
    auto operations = base;
    operations.insert(operations.end(), reads.begin(), reads.end());
    return verdict(operations);
  };
  EXPECT_EQ(with({get(2, "k", "v2", 30, 40)}), kYes);
  EXPECT_EQ(with({get(2, "k", "v1", 30, 40)}), kYes);
  EXPECT_EQ(with({get(2, "k", "v1", 30, 40), get(2, "k", "v2", 1000, 1010)}), kYes);
  EXPECT_EQ(with({get(2, "k", "v2", 30, 40), get(2, "k", "v1", 50, 60)}), kNo);
  // Not before its invocation.
  EXPECT_EQ(verdict({put(1, "k", "v2", 20, kNoReply), get(2, "k", "v2", 5, 15)}), kNo);
}

TEST(Linearizability, IncompletePutMayTakeEffectLongAfterItsCall) {
  // v2 is read at 100..110, after v3 was written: v2 must take effect after v3, so k holds
  // v2 afterwards, unless v3 is written again.
  auto base = std::vector{put(1, "k", "v2", 20, kNoReply), put(2, "k", "v3", 50, 60),
                          get(3, "k", "v2", 100, 110)};
  auto then = [&](KvOperation read) {
    auto operations = base;
    operations.push_back(read);
    return verdict(operations);
  };
  EXPECT_EQ(then(get(3, "k", "v2", 120, 130)), kYes);
  EXPECT_EQ(then(get(3, "k", "v3", 120, 130)), kNo);
}

TEST(Linearizability, IncompleteDelMayTakeEffectOrNot) {
  auto base = std::vector{put(1, "k", "v1", 0, 10), del(1, "k", 20, kNoReply)};
  auto with = [&](KvOperation first, KvOperation second) {
    auto operations = base;
    operations.push_back(first);
    operations.push_back(second);
    return verdict(operations);
  };
  EXPECT_EQ(with(get(2, "k", "v1", 30, 40), get(2, "k", std::nullopt, 50, 60)), kYes);
  EXPECT_EQ(with(get(2, "k", std::nullopt, 30, 40), get(2, "k", "v1", 50, 60)), kNo);
}

TEST(Linearizability, IncompletePutMayNeverTakeEffectThoughItsValueIsRead) {
  // The get of v at 10..100 saw the first put; the second put of v, without a reply, could
  // take effect only between 50 and 100, and then the get at 105..110 would read v.
  EXPECT_EQ(verdict({put(1, "k", "v", 0, 5), get(2, "k", "v", 10, 100), put(3, "k", "w", 12, 20),
                     get(4, "k", "w", 22, 30), put(5, "k", "v", 50, kNoReply),
                     get(4, "k", "w", 105, 110)}),
            kYes);
}

TEST(Linearizability, EachIncompleteDelTakesEffectAtMostOnce) {
  // Two puts, each followed by a read that finds nothing: two dels must take effect.
  auto operations = std::vector{del(1, "k", 0, kNoReply), put(2, "k", "v1", 10, 20),
                                get(3, "k", std::nullopt, 40, 50), put(2, "k", "v2", 55, 60),
                                get(3, "k", std::nullopt, 70, 80)};
  EXPECT_EQ(verdict(operations), kNo);
  operations.push_back(del(4, "k", 30, kNoReply));
  EXPECT_EQ(verdict(operations), kYes);
}

TEST(Linearizability, ARemovalWithoutAReplyIsSavedForTheReadThatNeedsIt) {
  // The first get of nothing can come before put a, or after it thanks to the del without
  // a reply; only the first leaves that del for the last get. The search tries the second
  // first, and must not take its failure as the failure of the first.
  EXPECT_EQ(
      verdict({del(1, "k", 0, kNoReply), put(2, "k", "a", 0, 10), get(3, "k", std::nullopt, 5, 15),
               del(4, "k", 20, 40), put(2, "k", "b", 50, 60), get(3, "k", std::nullopt, 70, 80)}),
      kYes);
}

// Twenty dels without a reply, each needed once after a put; then a read of a value never
// written. The dels are interchangeable, so the search tries them in one order only, not in
// 2^20 subsets; this decides within a small budget.
TEST(Linearizability, IncompleteDelsAreTriedInOneOrder) {
  std::vector<KvOperation> operations;
  for (std::uint64_t i = 1; i <= 20; ++i) {
    operations.push_back(del(100 + i, "k", i, kNoReply));
    operations.push_back(put(1, "k", "v" + std::to_string(i), 100 * i, 100 * i + 10));
    operations.push_back(get(2, "k", std::nullopt, 100 * i + 20, 100 * i + 30));
  }
  EXPECT_EQ(check(operations, {.states_per_key_max = 10'000}).verdict, kYes);
  operations.push_back(get(2, "k", "never", 3000, 3010));
  EXPECT_EQ(check(operations, {.states_per_key_max = 10'000}).verdict, kNo);
}

TEST(Linearizability, IncompleteGetConstrainsNothing) {
  auto report = check({put(1, "k", "v1", 0, 10), get(2, "k", std::nullopt, 20, kNoReply)});
  EXPECT_EQ(report.verdict, kYes);
  EXPECT_EQ(report.incomplete_operations, 1u);
}

TEST(Linearizability, DelThenGetFindsNothing) {
  auto base = std::vector{put(1, "k", "v1", 0, 10), del(1, "k", 20, 30)};
  auto then = [&](KvOperation read) {
    auto operations = base;
    operations.push_back(read);
    return verdict(operations);
  };
  EXPECT_EQ(then(get(2, "k", std::nullopt, 40, 50)), kYes);
  EXPECT_EQ(then(get(2, "k", "v1", 40, 50)), kNo);
}

TEST(Linearizability, DelOfAMissingKeyIsOk) {
  EXPECT_EQ(verdict({del(1, "k", 0, 10), get(2, "k", std::nullopt, 20, 30)}), kYes);
}

TEST(Linearizability, KeysAreIndependent) {
  // Each key alone is linearizable; so is the whole, although "a" and "b" interleave.
  auto report = check({put(1, "a", "x", 0, 10), put(2, "b", "y", 5, 15), get(1, "b", "y", 20, 30),
                       get(2, "a", "x", 20, 30), del(1, "a", 40, 50), get(2, "b", "y", 60, 70)});
  EXPECT_EQ(report.verdict, kYes);
  EXPECT_EQ(report.keys, 2u);
  // A stale read on "b" only: the report names "b".
  report = check({put(1, "a", "x", 0, 10), put(2, "b", "y", 5, 15), put(2, "b", "z", 16, 18),
                  get(1, "b", "y", 20, 30), get(2, "a", "x", 20, 30)});
  EXPECT_EQ(report.verdict, kNo);
  EXPECT_EQ(report.key, "b");
}

TEST(Linearizability, ExplanationShowsTheLongestOrderAndTheBlockedReply) {
  auto report =
      check({put(1, "k", "v1", 0, 10), put(1, "k", "v2", 20, 30), get(2, "k", "v1", 40, 50)});
  ASSERT_EQ(report.verdict, kNo);
  const std::string& text = report.explanation;
  EXPECT_NE(text.find("the longest order that fits has 2 operations"), std::string::npos) << text;
  EXPECT_NE(text.find("client=1 op=put key=k value=v2 invoke=20 complete=30 result=ok"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("`client=2 op=get key=k value=v1 invoke=40 complete=50 result=found` "
                      "replies next"),
            std::string::npos)
      << text;
}

// --- The budget ----------------------------------------------------------------------------

// Twelve puts at once, then a read of a value none wrote: every order of the puts is tried.
std::vector<KvOperation> hard_history(const std::string& key) {
  std::vector<KvOperation> operations;
  for (std::uint64_t i = 0; i < 12; ++i)
    operations.push_back(put(i, key, "v" + std::to_string(i), i, 100 + i));
  operations.push_back(get(99, key, "never", 200, 210));
  return operations;
}

TEST(Linearizability, BudgetSpentGivesUnknownNeverLinearizable) {
  EXPECT_EQ(check(hard_history("k")).verdict, kNo);
  auto report = check(hard_history("k"), {.states_per_key_max = 100});
  EXPECT_EQ(report.verdict, Linearizability::kUnknown);
  EXPECT_EQ(report.key, "k");
  EXPECT_NE(report.explanation.find("within 100 states"), std::string::npos);
  // Even a linearizable history is unknown, not linearizable, when it needs more states.
  auto sequential =
      check({put(1, "k", "v1", 0, 10), get(2, "k", "v1", 20, 30), get(2, "k", "v1", 40, 50)},
            {.states_per_key_max = 2});
  EXPECT_EQ(sequential.verdict, Linearizability::kUnknown);
}

TEST(Linearizability, AKeyOutOfBudgetDoesNotHideAnotherThatFails) {
  auto operations = hard_history("a");
  operations.push_back(put(1, "b", "x", 0, 10));
  operations.push_back(get(2, "b", std::nullopt, 20, 30));
  auto report = check(operations, {.states_per_key_max = 100});
  EXPECT_EQ(report.verdict, kNo);
  EXPECT_EQ(report.key, "b");
}

// --- The text format -----------------------------------------------------------------------

KvHistory every_kind() {
  return {{put(3, "k1", "v7", 1200, 1850), get(4, "k1", "v7", 1300, 1900),
           get(5, "k1", std::nullopt, 1310, 1420), del(3, "k1", 2000, 2300),
           put(6, "k2", "v9", 2100, kNoReply), get(7, "k2", std::nullopt, 2200, kNoReply),
           del(8, "k~!{}=", 0, kNoReply)}};
}

TEST(KvHistoryFormat, RoundTrip) {
  auto text = format_kv_history(every_kind());
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto parsed = parse_kv_history(text.value());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value(), every_kind());
}

TEST(KvHistoryFormat, ReadsTheHeadersExampleCommentsAndAnyFieldOrder) {
  auto parsed = parse_kv_history(
      "# a comment\n"
      "client=3 op=put key=k1 value=v7 invoke=1200 complete=1850 result=ok\n"
      "\n"
      "result=found  complete=1900 client=4 op=get key=k1 value=v7 invoke=1300\n"
      "client=6 op=put key=k2 value=v9 invoke=2100\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value(),
            (KvHistory{{put(3, "k1", "v7", 1200, 1850), get(4, "k1", "v7", 1300, 1900),
                        put(6, "k2", "v9", 2100, kNoReply)}}));
}

TEST(KvHistoryFormat, ParseErrorsNameTheLineAndTheProblem) {
  const std::pair<std::string, std::string> cases[] = {
      {"client=1 op=put key=k invoke=1 complete=2 result=ok", "put without a value"},
      {"client=x op=get key=k invoke=1", "client 'x' is not a number"},
      {"client=1 op=move key=k invoke=1", "op 'move' is not put, get or del"},
      {"client=1 op=get invoke=1", "field 'key' missing"},
      {"client=1 op=get key=k invoke=5 complete=4 result=not-found",
       "complete 4 is before invoke 5"},
      {"client=1 op=get key=k invoke=1 complete=2 result=ok", "result 'ok' is not one of found"},
      {"client=1 op=get key=k invoke=1 complete=2", "complete is given but result is '-'"},
      {"client=1 op=put key=k value=v invoke=1 result=ok", "result is given but complete"},
      {"client=1 op=get key=k\tx invoke=1", "key has byte 0x09 at offset 1"},
      {"client=1 op=get key=k invoke=1 color=red", "unknown field 'color'"},
      {"client=1 client=2 op=get key=k invoke=1", "field 'client' given twice"},
      {"client=1 op=get key=k invoke=1 complete=2 result=not-found value=v",
       "value given for a get that found nothing"},
      {"client=1 op=del key=k value=v invoke=1 complete=2 result=ok", "value given for a del"},
      {"client=1 op=get key=k invoke=1 complete=2 result=found", "get found without a value"},
      {"client=1 op=get key= invoke=1", "key is empty"},
      {"client=1 op=get key=" + std::string(kKvTokenBytesMax + 1, 'k') + " invoke=1",
       "more than 1024"},
      {"client=1 op=get key=k invoke=1 complete=2x result=not-found", "complete '2x'"},
      {"garbage", "'garbage' is not name=value"},
  };
  for (const auto& [line, problem] : cases) {
    std::string text = "# first\nclient=1 op=del key=k invoke=1 complete=2 result=ok\n" + line;
    auto parsed = parse_kv_history(text, "run.history");
    ASSERT_FALSE(parsed.ok()) << line;
    EXPECT_EQ(parsed.error().message.rfind("run.history:3: ", 0), 0u) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(problem), std::string::npos)
        << "line: " << line << "\nerror: " << parsed.error().message;
  }
}

TEST(KvHistoryFormat, WriterRefusesWhatTheFormatCannotHold) {
  auto spaced = format_kv_history({{del(1, "k", 0, 1), put(1, "a key", "v", 0, 1)}});
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.error().message,
            "operation 1: key has byte 0x20 at offset 1 (keys and values are printable ASCII "
            "without spaces)");
  EXPECT_FALSE(format_kv_operation(put(1, "k", "", 0, 1)).ok());
  EXPECT_FALSE(format_kv_operation(put(1, "k", "v\n", 0, 1)).ok());
  EXPECT_FALSE(format_kv_operation(get(1, "k", "v", 0, kNoReply)).ok());  // found, no reply
  EXPECT_FALSE(validate_kv_history({{get(1, "k", std::nullopt, 5, 4)}}).ok());
}

TEST(KvHistoryFormat, SaveAndLoadAFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("phalanx-history-" + std::to_string(::getpid()) + ".txt");
  ASSERT_TRUE(save_kv_history(every_kind(), path.string()).ok());
  auto loaded = load_kv_history(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded.value(), every_kind());
  auto missing = load_kv_history(path.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path.string()), std::string::npos);
}

// --- Simulated clients ---------------------------------------------------------------------

// Clients, each issuing one operation at a time over a few keys, against one map. Each
// operation takes effect at a random instant within its interval; one without a reply
// takes effect at a random instant after its call (perhaps after the client moved on) or
// never. Values are unique, so a read names the put it saw.
struct Simulation {
  std::uint64_t clients = 4;
  std::uint64_t operations_per_client = 12;
  std::uint64_t keys = 2;
  std::uint64_t no_reply_percent = 10;
};

KvHistory simulate(std::mt19937_64& random, const Simulation& simulation) {
  auto below = [&](std::uint64_t bound) { return random() % bound; };
  struct Effect {
    std::uint64_t at_ns;
    std::size_t operation;
  };
  KvHistory history;
  std::vector<Effect> effects;
  std::uint64_t values = 0;
  for (std::uint64_t client = 0; client < simulation.clients; ++client) {
    std::uint64_t now_ns = below(20);
    for (std::uint64_t i = 0; i < simulation.operations_per_client; ++i) {
      std::string key = "k" + std::to_string(below(simulation.keys));
      std::uint64_t invoke_ns = now_ns;
      std::uint64_t complete_ns = invoke_ns + below(40);
      std::uint64_t kind = below(10);
      KvOperation operation =
          kind < 4   ? put(client, key, "v" + std::to_string(++values), invoke_ns, complete_ns)
          : kind < 9 ? get(client, key, std::nullopt, invoke_ns, complete_ns)
                     : del(client, key, invoke_ns, complete_ns);
      std::uint64_t effect_ns = invoke_ns + below(complete_ns - invoke_ns + 1);
      bool effect = true;
      if (below(100) < simulation.no_reply_percent) {
        operation.complete_ns = kNoReply;
        effect_ns = invoke_ns + below(200);
        effect = below(2) == 0;
      }
      if (effect) effects.push_back({effect_ns, history.operations.size()});
      history.operations.push_back(operation);
      now_ns = complete_ns + below(10);
    }
  }
  // Effects at one instant go in a random order, which the map could have taken too.
  std::shuffle(effects.begin(), effects.end(), random);
  std::stable_sort(effects.begin(), effects.end(),
                   [](const Effect& a, const Effect& b) { return a.at_ns < b.at_ns; });
  std::map<std::string, std::string> map;
  for (const Effect& effect : effects) {
    KvOperation& operation = history.operations[effect.operation];
    if (operation.kind == KvOperationKind::kPut) map[operation.key] = operation.value;
    if (operation.kind == KvOperationKind::kDel) map.erase(operation.key);
    if (operation.kind != KvOperationKind::kGet || !operation.completed()) continue;
    auto found = map.find(operation.key);
    operation.found = found != map.end();
    operation.value = operation.found ? found->second : "";
  }
  return history;
}

bool is_write(const KvOperation& operation) {
  return operation.kind != KvOperationKind::kGet;
}
bool same_key_write(const KvOperation& operation, const std::string& key) {
  return is_write(operation) && operation.key == key;
}
// `a` returned before `b` was called: every order puts a first.
bool precedes(const KvOperation& a, const KvOperation& b) {
  return a.completed() && *a.complete_ns < b.invoke_ns;
}

// Makes the completed get at `index` impossible, in one of three ways chosen by `way`:
// a value never written; a value overwritten before the get began; not found, though a
// put had completed before and no del exists. Returns false if this get allows none.
bool corrupt(KvHistory& history, std::size_t index, std::uint64_t way) {
  KvOperation& read = history.operations[index];
  const auto& operations = history.operations;
  if (way == 0) {
    read.found = true;
    read.value = "never-written";
    return true;
  }
  for (const KvOperation& written : operations) {
    if (!same_key_write(written, read.key) || !precedes(written, read)) continue;
    if (way == 2 && written.kind == KvOperationKind::kPut &&
        std::none_of(operations.begin(), operations.end(), [&](const KvOperation& other) {
          return other.kind == KvOperationKind::kDel && other.key == read.key;
        })) {
      read.found = false;
      read.value = "";
      return true;
    }
    if (way != 1 || written.kind != KvOperationKind::kPut) continue;
    for (const KvOperation& overwrite : operations)
      if (same_key_write(overwrite, read.key) && precedes(written, overwrite) &&
          precedes(overwrite, read)) {
        read.found = true;
        read.value = written.value;
        return true;
      }
  }
  return false;
}

std::string text_of(const KvHistory& history) {
  return format_kv_history(history).value();
}

constexpr std::uint64_t kSeeds = 200;

TEST(LinearizabilityProperty, SimulatedClientsAreLinearizable) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 random(seed);
    Simulation simulation{2 + seed % 4, 6 + seed % 10, 1 + seed % 3, 10 + seed % 20};
    KvHistory history = simulate(random, simulation);
    auto report = check_linearizability(history);
    ASSERT_EQ(report.verdict, kYes) << "seed " << seed << "\n"
                                    << report.explanation << "\n"
                                    << text_of(history);
  }
}

TEST(LinearizabilityProperty, OneImpossibleReadIsFound) {
  std::uint64_t corrupted[3] = {0, 0, 0};
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 random(seed);
    Simulation simulation{2 + seed % 4, 6 + seed % 10, 1 + seed % 3, 10 + seed % 20};
    KvHistory history = simulate(random, simulation);
    std::vector<std::size_t> reads;
    for (std::size_t i = 0; i < history.operations.size(); ++i)
      if (!is_write(history.operations[i]) && history.operations[i].completed()) reads.push_back(i);
    std::shuffle(reads.begin(), reads.end(), random);
    std::uint64_t way = seed % 3;
    auto chosen = std::find_if(reads.begin(), reads.end(),
                               [&](std::size_t index) { return corrupt(history, index, way); });
    if (chosen == reads.end()) continue;
    ++corrupted[way];
    auto report = check_linearizability(history);
    ASSERT_EQ(report.verdict, kNo)
        << "seed " << seed << ", way " << way << ", operation " << *chosen << "\n"
        << text_of(history);
    EXPECT_EQ(report.key, history.operations[*chosen].key) << "seed " << seed;
    EXPECT_FALSE(report.explanation.empty());
  }
  // Most seeds offer a read to corrupt in each way; else the test proves little.
  for (std::uint64_t count : corrupted) EXPECT_GE(count, kSeeds / 3 / 2);
}

// The definition itself, searched exhaustively: some order of the completed operations and
// of some without a reply, in which an operation that replied before another was called
// comes first, gives every result. For up to 32 operations; it remembers what failed.
class Definition {
 public:
  explicit Definition(const std::vector<KvOperation>& operations) : operations_(operations) {
    EXPECT_LE(operations.size(), 32u);
  }
  bool linearizable() { return search(0, std::nullopt); }

 private:
  using State = std::optional<std::string>;
  bool placed(std::uint32_t set, std::size_t i) const { return (set >> i) & 1; }

  bool search(std::uint32_t set, const State& state) {
    auto waiting = [&](std::size_t i) { return !placed(set, i) && operations_[i].completed(); };
    bool done = true;
    for (std::size_t i = 0; i < operations_.size(); ++i) done &= !waiting(i);
    if (done) return true;
    if (failed_.contains({set, state})) return false;
    for (std::size_t i = 0; i < operations_.size(); ++i) {
      const KvOperation& next = operations_[i];
      if (placed(set, i) || (next.kind == KvOperationKind::kGet && !next.completed())) continue;
      bool minimal = true;
      for (std::size_t j = 0; j < operations_.size(); ++j)
        minimal &= !(waiting(j) && precedes(operations_[j], next));
      State after = next.kind == KvOperationKind::kPut   ? State(next.value)
                    : next.kind == KvOperationKind::kDel ? std::nullopt
                                                         : state;
      if (next.kind == KvOperationKind::kGet && state != (next.found ? State(next.value) : State()))
        continue;
      if (minimal && search(set | (std::uint32_t{1} << i), after)) return true;
    }
    failed_.insert({set, state});
    return false;
  }

  const std::vector<KvOperation>& operations_;
  std::set<std::pair<std::uint32_t, State>> failed_;
};

void expect_agreement(const std::vector<KvOperation>& operations, std::uint64_t seed,
                      std::uint64_t (&verdicts)[2]) {
  bool expected = Definition(operations).linearizable();
  ++verdicts[expected ? 1 : 0];
  ASSERT_EQ(verdict(operations), expected ? kYes : kNo) << "seed " << seed << "\n"
                                                        << text_of(KvHistory{operations});
}

TEST(LinearizabilityProperty, AgreesWithTheDefinitionOnSmallRandomHistories) {
  std::uint64_t verdicts[2] = {0, 0};
  for (std::uint64_t seed = 1; seed <= kSeeds * 2; ++seed) {
    std::mt19937_64 random(seed);
    auto below = [&](std::uint64_t bound) { return random() % bound; };
    std::vector<KvOperation> operations;
    for (std::uint64_t i = 0, count = 3 + below(8); i < count; ++i) {
      std::uint64_t invoke_ns = below(30);
      Complete complete_ns = below(10) < 3 ? kNoReply : Complete(invoke_ns + below(15));
      std::string value = "v" + std::to_string(below(2));
      std::uint64_t kind = below(3);
      operations.push_back(kind == 0   ? put(i, "k", value, invoke_ns, complete_ns)
                           : kind == 1 ? del(i, "k", invoke_ns, complete_ns)
                                       : get(i, "k", std::nullopt, invoke_ns, complete_ns));
      if (kind == 2 && complete_ns && below(3) != 0) {
        operations.back().found = true;
        operations.back().value = value;
      }
    }
    ASSERT_NO_FATAL_FAILURE(expect_agreement(operations, seed, verdicts));
  }
  // Both verdicts come up often, or the comparison proves little.
  EXPECT_GE(verdicts[0], kSeeds / 4);
  EXPECT_GE(verdicts[1], kSeeds / 4);
}

// Simulated clients on one key, many without a reply, then one read changed to another
// value seen in the history, or to not found: linearizable or not, as the definition says.
TEST(LinearizabilityProperty, AgreesWithTheDefinitionOnSimulatedHistoriesWithOneReadChanged) {
  std::uint64_t verdicts[2] = {0, 0};
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 random(seed);
    KvHistory history = simulate(random, {3 + seed % 2, 4 + seed % 3, 1, 40});
    std::vector<std::size_t> reads;
    std::vector<std::string> values{""};
    for (std::size_t i = 0; i < history.operations.size(); ++i) {
      const KvOperation& operation = history.operations[i];
      if (operation.kind == KvOperationKind::kPut) values.push_back(operation.value);
      if (operation.kind == KvOperationKind::kGet && operation.completed()) reads.push_back(i);
    }
    if (reads.empty()) continue;
    KvOperation& read = history.operations[reads[random() % reads.size()]];
    read.value = values[random() % values.size()];
    read.found = !read.value.empty();
    ASSERT_NO_FATAL_FAILURE(expect_agreement(history.operations, seed, verdicts));
  }
  EXPECT_GE(verdicts[0], kSeeds / 5);
  EXPECT_GE(verdicts[1], kSeeds / 5);
}

TEST(LinearizabilityProperty, ALongRunIsDecidedWithinTheDefaultBudget) {
  std::mt19937_64 random(7);
  KvHistory history = simulate(random, {8, 250, 3, 10});
  auto report = check_linearizability(history);
  EXPECT_EQ(report.verdict, kYes) << report.explanation;
  EXPECT_EQ(report.operations, 2000u);
}

}  // namespace
}  // namespace phalanx::adversary
