#pragma once
// adversary::History and check(): what a run did, and whether it kept DESIGN.md's promises.
//
// A History is filled by whoever observes a run (the simulator, a process test, a test
// that fabricates one to prove the checker can fail); check() knows nothing of how it was
// filled. It records, per replica, the batches executed in the order they were executed,
// the state-transfer jumps, crashes and restarts; what each replica signed and sent; the
// requests correct clients submitted; the results they accepted; and who was accused of
// equivocation.
//
// Properties checked (DESIGN.md "Promised"), on correct replicas and clients only:
// - S1 agreement: no two replicas executed different batches at one seq (the same digest
//   executed with different requests or duplicate flags counts as different).
// - S2 total order: each replica executes seqs 1, 2, 3, ... with no gap or repeat, except
//   across a state transfer to seq S, after which the next seq is S + 1 (S must not be
//   behind what the replica had executed: that would be a rollback), and across a
//   restart from durable state at seq S (a snapshot), after which it is S + 1 too: a
//   restarted replica executes again what it had executed above its snapshot, and S1
//   then requires the same batches. With S1, histories are then prefixes of one another.
// - S3 exactly-once: a replica executes a (client, request id) at most once in one life
//   (entries flagged duplicate are skipped by the replica, so they do not count; after a
//   restart at S, what it executed above S counts as not executed).
// - S4 durability: every result a client accepted was executed by a correct replica, at
//   some seq s, and at the end some correct replica that is up has a state at or past s
//   (its last execution, state transfer or restart is at s or later). With S1 and S2 that
//   state contains the request; a cluster that lost it would have had to execute another
//   batch at s (an S1 violation) or stay below s.
// - S3 validity: every executed non-duplicate request was submitted by a correct client
//   with that payload digest.
// - S5 accountability: no correct replica is accused, and no correct replica signed two
//   different messages of one kind for one slot (PRE-PREPARE, PREPARE or COMMIT for a
//   (view, seq); CHECKPOINT for a seq; VIEW-CHANGE or NEW-VIEW for a view), restarts
//   included: that is what a replica that forgot what it signed would do.
// - Completion (L1 once the run is long enough): every submitted request was accepted.
//
// Thread-safety: none.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx.pb.h"
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
  kDurability,      // S4
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

// One step of a replica's history: a batch it executed, a jump by state transfer, a
// crash, or a restart from its durable state.
struct HistoryStep {
  enum class Kind { kExecuted, kStateTransfer, kCrash, kRestart };
  Kind kind = Kind::kExecuted;
  // Executed seq; the seq whose state was adopted (transfer) or restored (restart: its
  // snapshot's, 0 without one); unused for a crash.
  pbft::Seq seq = 0;
  crypto::Digest digest;
  std::vector<RequestRecord> requests;

  bool operator==(const HistoryStep&) const = default;
};

// A message a replica signed and sent, reduced to its slot and a digest of what it says
// there. Two with the same kind and slot but different content conflict (S5).
struct SignedMessage {
  wire::Kind kind = wire::KIND_UNSPECIFIED;
  pbft::View view = 0;  // PRE-PREPARE, PREPARE, COMMIT; VIEW-CHANGE (its new view); NEW-VIEW
  pbft::Seq seq = 0;    // PRE-PREPARE, PREPARE, COMMIT, CHECKPOINT
  crypto::Digest content;

  bool operator==(const SignedMessage&) const = default;
  // nullopt for kinds without a slot (REPLY, STATUS, ...) and undecodable payloads.
  static std::optional<SignedMessage> of(const wire::Envelope& envelope);
};

class History {
 public:
  // Evidence that `accused` signed two conflicting messages, held by some replica.
  struct Accusation {
    pbft::ReplicaId accused = 0;
    std::string what;
    std::optional<pbft::ReplicaId> accuser;  // the replica that holds the proof, if known
    bool operator==(const Accusation&) const = default;
  };

  explicit History(std::size_t replicas);

  std::size_t replicas() const { return steps_.size(); }

  void record_executed(pbft::ReplicaId replica, const pbft::ExecutedBatch& batch);
  void record_executed(pbft::ReplicaId replica, HistoryStep step);
  void record_state_transfer(pbft::ReplicaId replica, pbft::Seq seq);
  void record_crash(pbft::ReplicaId replica);
  void record_restart(pbft::ReplicaId replica, pbft::Seq snapshot_seq);
  // The first conflicting pair per replica is kept (as the checker's evidence).
  void record_signed(pbft::ReplicaId replica, const SignedMessage& message);
  void record_submitted(const crypto::PublicKey& client, pbft::RequestId request_id,
                        const crypto::Digest& payload_digest);
  void record_accepted(const crypto::PublicKey& client, pbft::RequestId request_id,
                       const Bytes& result);
  void record_accusation(pbft::ReplicaId accused, std::string what,
                         std::optional<pbft::ReplicaId> accuser = std::nullopt);
  // Faulty replicas are exempt from every check (their claims are not trusted).
  void mark_faulty(pbft::ReplicaId replica);
  // `replica` raised a safety alarm (pbft::Event::kStateDiverged): its state or a new view
  // contradicts what it committed. From a correct replica, an S1 violation.
  void record_alarm(pbft::ReplicaId replica, std::string what);
  const std::vector<std::pair<pbft::ReplicaId, std::string>>& alarms() const { return alarms_; }

  const std::vector<HistoryStep>& steps(pbft::ReplicaId replica) const;
  bool faulty(pbft::ReplicaId replica) const { return faulty_.count(replica) != 0; }
  std::size_t submitted_count() const { return submitted_.size(); }
  std::size_t accepted_count() const { return accepted_.size(); }
  // Every accusation, in the order they were made (who made each: see the recorder).
  const std::vector<Accusation>& accusations() const { return accusations_; }

  bool operator==(const History&) const = default;

 private:
  friend class Checker;
  struct Key {
    crypto::PublicKey client;
    pbft::RequestId request_id = 0;
    auto operator<=>(const Key&) const = default;
  };

  std::vector<std::vector<HistoryStep>> steps_;  // by replica id
  std::map<Key, crypto::Digest> submitted_;      // -> payload digest
  std::map<Key, Bytes> accepted_;                // -> result
  struct SlotKey {
    wire::Kind kind;
    pbft::View view;
    pbft::Seq seq;
    auto operator<=>(const SlotKey&) const = default;
  };
  struct Conflict {
    SignedMessage first;
    SignedMessage second;
    bool operator==(const Conflict&) const = default;
  };

  std::vector<Accusation> accusations_;
  std::vector<std::pair<pbft::ReplicaId, std::string>> alarms_;
  std::set<pbft::ReplicaId> faulty_;
  std::vector<std::map<SlotKey, crypto::Digest>> signed_;  // by replica id
  std::map<pbft::ReplicaId, Conflict> conflicts_;          // the first, per replica
};

struct CheckOptions {
  bool completion = true;  // off for runs cut short on purpose
  bool durability = true;  // off for runs that end with every correct replica down
};

// Checks every property; returns the violations found (empty: the history passes). At
// most kViolationsMax are returned, so a badly broken run does not print millions.
inline constexpr std::size_t kViolationsMax = 50;
std::vector<Violation> check(const History& history, const CheckOptions& options = {});

}  // namespace phalanx::adversary
