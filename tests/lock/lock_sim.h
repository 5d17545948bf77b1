#pragma once
// The lock service in adversary::SimCluster, and what each client was told.
//
// The simulator's completion records say which request of which client completed when,
// but not the result the client accepted. So every replica runs a
// RecordingLockApplication, which keeps the reply it computed for each (client key,
// request id). A client accepts a result only once f+1 replicas sent it, one of them
// correct, and correct replicas compute alike: the reply a correct replica recorded is the
// one the client accepted. answers() joins the two, and fails when no correct replica
// recorded a completed request or two recorded different replies.
//
// LockWorkload makes clients that use locks as a program would: acquire a lock, then
// release or renew it with the token they were given, or ask who holds one. It reads the
// reply to a client's previous request the same way, when the closed loop asks for the
// next operation (the previous one has completed by then).
//
// Thread-safety: none, like the simulator.
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/lock/lock_application.h"
#include "phalanx/net/rng.h"

namespace phalanx::lock::sim {

using ReplyKey = std::pair<crypto::PublicKey, pbft::RequestId>;

class RecordingLockApplication final : public pbft::Application {
 public:
  Bytes execute(ByteView operation, const pbft::RequestContext& context) override {
    Bytes reply = inner_.execute(operation, context);
    replies_[{context.client, context.request_id}] = reply;
    return reply;
  }
  // The record is no replicated state: a replica restored from a snapshot knows only the
  // replies it computed itself.
  Bytes snapshot() const override { return inner_.snapshot(); }
  Status restore(ByteView snapshot) override { return inner_.restore(snapshot); }

  const std::map<ReplyKey, Bytes>& replies() const { return replies_; }
  const LockTable& table() const { return inner_.table(); }

 private:
  LockApplication inner_;
  std::map<ReplyKey, Bytes> replies_;
};

// What every replica of a lock cluster runs.
inline std::unique_ptr<pbft::Application> make_recording_application() {
  return std::make_unique<RecordingLockApplication>();
}

// The key SimCluster gives client `index` (adversary/src/sim_cluster.cc). Completion
// records name clients by index; replicas know them by key.
inline crypto::PublicKey client_key(std::uint32_t index) {
  return crypto::SecretKey::derive_for_testing("client", index).public_key();
}

// The reply correct replicas recorded for `key`: nullopt if none did, an Error if two
// differ or it does not decode.
inline Result<std::optional<Reply>> recorded_reply(const adversary::SimCluster& cluster,
                                                   const ReplyKey& key) {
  std::optional<Bytes> agreed;
  for (pbft::ReplicaId id = 0; id < cluster.options().replicas; ++id) {
    if (cluster.history().faulty(id)) continue;
    const auto& app = dynamic_cast<const RecordingLockApplication&>(cluster.application(id));
    auto found = app.replies().find(key);
    if (found == app.replies().end()) continue;
    if (agreed && *agreed != found->second)
      return Error{"correct replicas computed different replies to request " +
                   std::to_string(key.second) + " of client " + key.first.short_hex()};
    agreed = found->second;
  }
  if (!agreed) return std::optional<Reply>();
  auto reply = decode_reply(*agreed);
  if (!reply.ok())
    return Error{"a correct replica's reply does not decode: " + reply.error().message};
  return std::optional<Reply>(reply.value());
}

// A completed request, with the reply its client accepted.
struct Answer {
  std::uint32_t client = 0;  // index
  std::uint32_t number = 0;  // the client's n-th request, from 1
  pbft::RequestId request_id = 0;
  pbft::Instant submitted_at = 0;  // simulated
  pbft::Instant completed_at = 0;
  Reply reply;
};

// Every completed request's answer, in completion order.
inline Result<std::vector<Answer>> answers(const adversary::SimCluster& cluster) {
  std::vector<Answer> out;
  std::map<std::uint32_t, std::uint32_t> numbers;
  for (const auto& record : cluster.completions()) {
    auto reply = recorded_reply(cluster, {client_key(record.client), record.request_id});
    if (!reply.ok()) return reply.error();
    if (!reply.value())
      return Error{"no correct replica recorded the reply client " + std::to_string(record.client) +
                   " accepted for request " + std::to_string(record.request_id)};
    out.push_back(Answer{record.client, ++numbers[record.client], record.request_id,
                         record.submitted_at, record.completed_at, *reply.value()});
  }
  return out;
}

inline std::string describe(const Answer& answer) {
  return "client " + std::to_string(answer.client) + " request " + std::to_string(answer.number) +
         " (submitted " + std::to_string(answer.submitted_at / pbft::kMillisecond) +
         " ms, completed " + std::to_string(answer.completed_at / pbft::kMillisecond) +
         " ms): " + lock::describe(answer.reply);
}

// The answer to `client`'s `number`-th request, if it completed.
inline std::optional<Answer> answer_to(const adversary::SimCluster& cluster, std::uint32_t client,
                                       std::uint32_t number) {
  auto all = answers(cluster);
  if (!all.ok()) return std::nullopt;
  for (const auto& answer : all.value())
    if (answer.client == client && answer.number == number) return answer;
  return std::nullopt;
}

// The two properties of fencing tokens (Kleppmann 2016; the lock service's README):
// - uniqueness: no two grants returned the same token;
// - monotonic sequence: a grant submitted after another completed returned a larger token.
// Returns what broke, empty when both hold.
inline std::string fencing_problem(const std::vector<Answer>& answers) {
  std::vector<const Answer*> grants;
  for (const auto& answer : answers)
    if (answer.reply.outcome == Outcome::kGranted) grants.push_back(&answer);
  std::map<Token, const Answer*> by_token;
  for (const Answer* grant : grants) {
    auto [it, inserted] = by_token.emplace(grant->reply.token, grant);
    if (!inserted)
      return "uniqueness: two grants returned token " + std::to_string(grant->reply.token) +
             ":\n    " + describe(*it->second) + "\n    " + describe(*grant);
  }
  for (const Answer* later : grants) {
    for (const Answer* earlier : grants) {
      if (earlier->completed_at < later->submitted_at && earlier->reply.token >= later->reply.token)
        return "monotonic sequence: a grant submitted after another completed has a token "
               "not larger:\n    " +
               describe(*earlier) + "\n    " + describe(*later);
    }
  }
  return {};
}

// The shape of a LockWorkload.
struct WorkloadShape {
  std::uint32_t names = 2;  // locks "lock-0".. : few, so that clients contend
  std::uint64_t lease_ms_min = 20, lease_ms_max = 300;
};

class LockWorkload {
 public:
  LockWorkload(std::uint64_t seed, WorkloadShape shape) : rng_(seed), shape_(shape) {}

  // Call from the run's setup: the cluster whose replicas' records say what clients got.
  void attach(const adversary::SimCluster& cluster) { cluster_ = &cluster; }

  // SimClusterOptions::make_operation.
  Bytes next(std::uint32_t client, std::uint32_t number) {
    Operation operation = choose(client, number);
    last_operation_[client] = operation;
    auto encoded = encode(operation);
    PHALANX_ASSERT(encoded.ok(), "the workload made an operation out of range");
    return std::move(encoded).value();
  }

 private:
  Operation choose(std::uint32_t client, std::uint32_t number) {
    std::optional<Reply> last = number > 1 ? previous_reply(client) : std::nullopt;
    const bool holds =
        last && (last->outcome == Outcome::kGranted || last->outcome == Outcome::kRenewed);
    const std::uint64_t draw = rng_.uniform(0, 99);
    if (holds) {
      const std::string& name = name_of(last_operation_.at(client));
      if (draw < 45) return Release{name, last->token};
      if (draw < 70) return Renew{name, last->token, lease()};
    }
    if (draw < 85) return Acquire{random_name(), lease()};
    return Query{random_name()};
  }

  std::optional<Reply> previous_reply(std::uint32_t client) const {
    PHALANX_ASSERT(cluster_ != nullptr, "LockWorkload::attach was not called");
    const auto& records = cluster_->completions();
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (it->client != client) continue;
      auto reply = recorded_reply(*cluster_, {client_key(client), it->request_id});
      return reply.ok() ? reply.value() : std::nullopt;
    }
    return std::nullopt;
  }

  std::string random_name() { return "lock-" + std::to_string(rng_.uniform(0, shape_.names - 1)); }
  std::uint64_t lease() { return rng_.uniform(shape_.lease_ms_min, shape_.lease_ms_max); }

  net::Rng rng_;
  WorkloadShape shape_;
  const adversary::SimCluster* cluster_ = nullptr;
  std::map<std::uint32_t, Operation> last_operation_;
};

}  // namespace phalanx::lock::sim
