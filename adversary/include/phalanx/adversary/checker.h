#pragma once
// adversary::History and check(): what a run did, and whether it kept DESIGN.md's promises.
//
// A History is filled by whoever observes a run (the simulator, a process test, a test
// that fabricates one to prove the checker can fail); check() knows nothing of how it was
// filled. It records, per replica, the batches executed in the order they were executed
// and the state-transfer jumps; the requests correct clients submitted; the results they
// accepted; and who was accused of equivocation.
//
// Properties checked (DESIGN.md "Promised"), on correct replicas and clients only:
// - S1 agreement: no two replicas executed different batches at one seq (the same digest
//   executed with different requests or duplicate flags counts as different).
// - S2 total order: each replica executes seqs 1, 2, 3, ... with no gap or repeat, except
//   across a state transfer to seq S, after which the next seq is S + 1 (S must not be
//   behind what the replica had executed: that would be a rollback).
//   With S1, histories are then prefixes of one another.
// - S3 exactly-once: a replica executes a (client, request id) at most once (entries
//   flagged duplicate are skipped by the replica, so they do not count).
// - S3 validity: every executed non-duplicate request was submitted by a correct client
//   with that payload digest.
// - S5 accountability: no correct replica is accused.
// - Completion (L1 once the run is long enough): every submitted request was accepted.
//
// Thread-safety: none.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/actions.h"
#include "phalanx/pbft/types.h"

namespace phalanx::adversary {

enum class Property {
  kAgreement,       // S1
  kTotalOrder,      // S2
  kExactlyOnce,     // S3
  kValidity,        // S3
  kAccountability,  // S5
  kCompletion,      // L1
};
std::string_view to_string(Property property);

struct Violation {
  Property property;
  std::string message;  // names the property, the replicas and the seq
};
std::string to_string(const Violation& violation);

// The identity of one request: who signed it, its id and what it asked for.
struct RequestRecord {
  crypto::PublicKey client;
  pbft::RequestId request_id = 0;
  crypto::Digest payload_digest;
  bool duplicate = false;  // in executions only: the replica skipped it

  bool operator==(const RequestRecord&) const = default;
};

// One step of a replica's history: a batch it executed, or a jump by state transfer.
struct HistoryStep {
  enum class Kind { kExecuted, kStateTransfer };
  Kind kind = Kind::kExecuted;
  pbft::Seq seq = 0;  // executed seq, or the seq whose state was adopted
  crypto::Digest digest;
  std::vector<RequestRecord> requests;

  bool operator==(const HistoryStep&) const = default;
};

class History {
 public:
  explicit History(std::size_t replicas);

  std::size_t replicas() const { return steps_.size(); }

  void record_executed(pbft::ReplicaId replica, const pbft::ExecutedBatch& batch);
  void record_executed(pbft::ReplicaId replica, HistoryStep step);
  void record_state_transfer(pbft::ReplicaId replica, pbft::Seq seq);
  void record_submitted(const crypto::PublicKey& client, pbft::RequestId request_id,
                        const crypto::Digest& payload_digest);
  void record_accepted(const crypto::PublicKey& client, pbft::RequestId request_id,
                       const Bytes& result);
  void record_accusation(pbft::ReplicaId accused, std::string what);
  // Faulty replicas are exempt from every check (their claims are not trusted).
  void mark_faulty(pbft::ReplicaId replica);

  const std::vector<HistoryStep>& steps(pbft::ReplicaId replica) const;
  bool faulty(pbft::ReplicaId replica) const { return faulty_.count(replica) != 0; }
  std::size_t submitted_count() const { return submitted_.size(); }
  std::size_t accepted_count() const { return accepted_.size(); }

  bool operator==(const History&) const = default;

 private:
  friend class Checker;
  struct Key {
    crypto::PublicKey client;
    pbft::RequestId request_id = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Accusation {
    pbft::ReplicaId accused = 0;
    std::string what;
    bool operator==(const Accusation&) const = default;
  };

  std::vector<std::vector<HistoryStep>> steps_;  // by replica id
  std::map<Key, crypto::Digest> submitted_;      // -> payload digest
  std::map<Key, Bytes> accepted_;                // -> result
  std::vector<Accusation> accusations_;
  std::set<pbft::ReplicaId> faulty_;
};

struct CheckOptions {
  bool completion = true;  // off for runs cut short on purpose
};

// Checks every property; returns the violations found (empty: the history passes). At
// most kViolationsMax are returned, so a badly broken run does not print millions.
inline constexpr std::size_t kViolationsMax = 50;
std::vector<Violation> check(const History& history, const CheckOptions& options = {});

}  // namespace phalanx::adversary
