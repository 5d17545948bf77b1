// The story that fencing tokens answer (Kleppmann, "How to do distributed locking", 2016),
// played by the lock service on four simulated replicas:
//
//   ~0 ms    client A acquires "ledger" for 1 s and gets token tA. Then A stops, a
//            process pause of 3 s (its think time: it sends nothing until it wakes),
//            between getting the token and writing with it.
//   ~1 s     A's lease ends, by the agreed time of the log, with nobody told.
//   ~2.1 s   client B, whose network was down until 1.2 s, gets its acquire through (its
//            client retries) and is granted "ledger" with token tB > tA.
//   2.5 s    B writes to the storage with tB: accepted.
//   3 s      A wakes and writes with tA: the fenced storage refuses it. A storage without
//            fencing takes it and loses B's write.
//   ~3 s     A tries to release with tA: refused, B holds the lock.
//
// Run over several seeds (message latencies differ); each failing seed prints the command
// that replays it.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lock/lock_sim.h"
#include "phalanx/lock/fenced_storage.h"
#include "sim/seed_runner.h"

namespace phalanx::lock {
namespace {

using adversary::SimCluster;
using adversary::sim_test::kMs;
using adversary::sim_test::SeedRun;

constexpr std::uint32_t kClientA = 0;
constexpr std::uint32_t kClientB = 1;
constexpr std::string_view kLock = "ledger";
constexpr std::string_view kFile = "ledger.dat";
constexpr std::uint64_t kLeaseAMs = 1'000;
constexpr std::uint64_t kLeaseBMs = 10'000;
// A's pause is its think time: it starts when A's grant arrives (a few ms in) and ends with
// A's next request, just after kAWakes, when A writes. B's client retries its acquire
// (after 0.3, 0.9 and 2.1 s), and the one after kBNetworkUp gets through.
constexpr pbft::Instant kPause = 3'000 * kMs;
constexpr pbft::Instant kBNetworkUp = 1'200 * kMs;
constexpr pbft::Instant kBWrites = 2'500 * kMs;
constexpr pbft::Instant kAWakes = kPause;

// What the story's clients did outside the lock service.
struct Story {
  const SimCluster* cluster = nullptr;
  FencedStorage storage;
  std::map<std::string, std::string> unfenced;  // the same writes, without fencing
  std::optional<Status> b_write;
  std::optional<Status> a_write;
  std::string problem;  // a step that could not happen as the story says
};

// The token `client` was told (the reply to its first request), if it was granted.
std::optional<Token> token_of(const Story& story, std::uint32_t client) {
  auto answer = sim::answer_to(*story.cluster, client, 1);
  if (!answer || answer->reply.outcome != Outcome::kGranted) return std::nullopt;
  return answer->reply.token;
}

// The clients' requests to the lock service: each acquires, then releases with the token
// it was given (1 if it got none: the story then fails in story_problem).
Bytes operation(const Story& story, std::uint32_t client, std::uint32_t number) {
  if (number == 1) return acquire(kLock, client == kClientA ? kLeaseAMs : kLeaseBMs);
  return release(kLock, token_of(story, client).value_or(1));
}

void write(Story& story, std::uint32_t client, std::optional<Status>& outcome) {
  auto token = token_of(story, client);
  if (!token) {
    // Two appends, not a + b: GCC 12 warns (-Warray-bounds, wrongly) on the temporary.
    story.problem += client == kClientA ? "A" : "B";
    story.problem += " has no token when it writes; ";
    return;
  }
  std::string value = client == kClientA ? "A's stale total" : "B's new total";
  outcome = story.storage.write(kFile, value, *token);
  story.unfenced[std::string(kFile)] = value;
}

// What went otherwise than the story says; empty if nothing.
std::string story_problem(const SimCluster& cluster, const Story& story) {
  if (!story.problem.empty()) return story.problem;
  auto a1 = sim::answer_to(cluster, kClientA, 1), a2 = sim::answer_to(cluster, kClientA, 2);
  auto b1 = sim::answer_to(cluster, kClientB, 1), b2 = sim::answer_to(cluster, kClientB, 2);
  if (!a1 || !a2 || !b1 || !b2) return "a request has no answer";
  const Reply& a_grant = a1->reply;
  const Reply& b_grant = b1->reply;
  if (a_grant.outcome != Outcome::kGranted) return "A was not granted: " + describe(a_grant);
  if (b_grant.outcome != Outcome::kGranted) return "B was not granted: " + describe(b_grant);
  if (b_grant.token <= a_grant.token) return "B's token is not larger than A's";
  if (b_grant.until_ms - kLeaseBMs < a_grant.until_ms)
    return "B was granted at an agreed time before A's lease ended";
  if (b1->completed_at >= kBWrites) return "B's grant completed after B was to write";
  if (!story.b_write || !story.b_write->ok()) return "B's write with the newer token was refused";
  if (!story.a_write || story.a_write->ok()) return "A's write with its old token was accepted";
  if (story.a_write->error().message.find("older") == std::string::npos)
    return "A's write was refused for another reason: " + story.a_write->error().message;
  if (story.unfenced.at(std::string(kFile)) != "A's stale total")
    return "without fencing, A's late write should have overwritten B's";
  if (a2->reply.outcome != Outcome::kNotHolder || a2->reply.owner != sim::client_key(kClientB))
    return "A's release after its pause: " + describe(a2->reply);
  if (b2->reply.outcome != Outcome::kReleased) return "B's release: " + describe(b2->reply);
  if (story.storage.read(kFile) != "B's new total" ||
      story.storage.highest_token(kFile) != b_grant.token)
    return "the storage does not hold B's write";
  return {};
}

SeedRun pause_story(std::uint64_t seed, const std::shared_ptr<Story>& story) {
  SeedRun run;
  auto& options = run.options;
  options.seed = seed;
  options.replicas = 4;
  options.clients = 2;
  options.requests_per_client = 2;
  options.think_time = kPause;
  options.network.latency_min_ns = 1 * kMs;
  options.network.latency_max_ns = 5 * kMs;
  options.replica_options.batch_time_skew_max = 1 * pbft::kSecond;
  options.time_limit = 60 * pbft::kSecond;
  options.make_application = sim::make_recording_application;
  options.make_operation = [story](std::uint32_t client, std::uint32_t number) {
    return operation(*story, client, number);
  };
  const net::NodeId node_b = options.replicas + kClientB;
  run.changes.emplace_back(0, [node_b](net::SimNetwork& network) { network.isolate(node_b); });
  run.changes.emplace_back(kBNetworkUp,
                           [node_b](net::SimNetwork& network) { network.reconnect(node_b); });
  run.faults = " B's network down until " + std::to_string(kBNetworkUp / kMs) + " ms";
  run.actions.emplace_back(kBWrites,
                           [story](SimCluster&) { write(*story, kClientB, story->b_write); });
  run.actions.emplace_back(kAWakes,
                           [story](SimCluster&) { write(*story, kClientA, story->a_write); });
  run.setup = [story](SimCluster& cluster) { story->cluster = &cluster; };
  run.verify = [story](const SimCluster& cluster, const adversary::RunResult&) {
    return story_problem(cluster, *story);
  };
  return run;
}

TEST(LockPauseStory, PausedHolderWritesWithItsOldTokenAndTheStorageRefusesIt) {
  adversary::sim_test::run_seeds(
      [](std::uint64_t seed) { return pause_story(seed, std::make_shared<Story>()); }, 20);
}

}  // namespace
}  // namespace phalanx::lock
