#include "phalanx/adversary/checker.h"

#include <utility>

#include "phalanx/base/assert.h"

namespace phalanx::adversary {

std::string_view to_string(Property property) {
  switch (property) {
    case Property::kAgreement:
      return "S1 agreement";
    case Property::kTotalOrder:
      return "S2 total order";
    case Property::kExactlyOnce:
      return "S3 exactly-once";
    case Property::kValidity:
      return "S3 validity";
    case Property::kDurability:
      return "S4 durability";
    case Property::kAccountability:
      return "S5 accountability";
    case Property::kCompletion:
      return "completion";
  }
  return "unknown property";
}

std::string to_string(const Violation& violation) {
  return std::string(to_string(violation.property)) + ": " + violation.message;
}

// --- History --------------------------------------------------------------------------

History::History(std::size_t replicas) : steps_(replicas), signed_(replicas) {}

namespace {
template <typename Message>
std::optional<Message> decode(const std::string& payload) {
  Message message;
  if (!message.ParseFromString(payload)) return std::nullopt;
  return message;
}

template <typename Vote>
std::optional<SignedMessage> slot_message(const wire::Envelope& envelope) {
  auto vote = decode<Vote>(envelope.payload());
  auto digest = vote ? crypto::Digest::from_bytes(vote->digest()) : std::nullopt;
  if (!digest) return std::nullopt;
  return SignedMessage{envelope.kind(), vote->view(), vote->seq(), *digest};
}
}  // namespace

std::optional<SignedMessage> SignedMessage::of(const wire::Envelope& envelope) {
  switch (envelope.kind()) {
    case wire::PRE_PREPARE:
      return slot_message<wire::PrePrepare>(envelope);
    case wire::PREPARE:
      return slot_message<wire::Prepare>(envelope);
    case wire::COMMIT:
      return slot_message<wire::Commit>(envelope);
    case wire::CHECKPOINT: {
      auto checkpoint = decode<wire::Checkpoint>(envelope.payload());
      if (!checkpoint) return std::nullopt;
      crypto::Hasher content;
      content.update_field(checkpoint->state_digest()).update_u64(checkpoint->state_size());
      return SignedMessage{wire::CHECKPOINT, 0, checkpoint->seq(), content.finish()};
    }
    case wire::VIEW_CHANGE: {
      auto view_change = decode<wire::ViewChange>(envelope.payload());
      if (!view_change) return std::nullopt;
      return SignedMessage{wire::VIEW_CHANGE, view_change->new_view(), 0,
                           crypto::blake2b(envelope.payload())};
    }
    case wire::NEW_VIEW: {
      auto new_view = decode<wire::NewView>(envelope.payload());
      if (!new_view) return std::nullopt;
      return SignedMessage{wire::NEW_VIEW, new_view->view(), 0,
                           crypto::blake2b(envelope.payload())};
    }
    default:
      return std::nullopt;
  }
}

void History::record_executed(pbft::ReplicaId replica, const pbft::ExecutedBatch& batch) {
  HistoryStep step{HistoryStep::Kind::kExecuted, batch.seq, batch.digest, {}};
  step.requests.reserve(batch.requests.size());
  for (const auto& request : batch.requests) {
    step.requests.push_back(
        {request.client, request.request_id, request.payload_digest, request.duplicate});
  }
  record_executed(replica, std::move(step));
}

void History::record_executed(pbft::ReplicaId replica, HistoryStep step) {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  step.kind = HistoryStep::Kind::kExecuted;
  steps_[replica].push_back(std::move(step));
}

void History::record_state_transfer(pbft::ReplicaId replica, pbft::Seq seq) {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  steps_[replica].push_back(HistoryStep{HistoryStep::Kind::kStateTransfer, seq, {}, {}});
}

void History::record_crash(pbft::ReplicaId replica) {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  steps_[replica].push_back(HistoryStep{HistoryStep::Kind::kCrash, 0, {}, {}});
}

void History::record_restart(pbft::ReplicaId replica, pbft::Seq snapshot_seq) {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  steps_[replica].push_back(HistoryStep{HistoryStep::Kind::kRestart, snapshot_seq, {}, {}});
}

void History::record_signed(pbft::ReplicaId replica, const SignedMessage& message) {
  PHALANX_ASSERT(replica < signed_.size(), "replica id out of range");
  auto [it, inserted] = signed_[replica].try_emplace(
      SlotKey{message.kind, message.view, message.seq}, message.content);
  if (inserted || it->second == message.content || conflicts_.count(replica)) return;
  SignedMessage first = message;
  first.content = it->second;
  conflicts_.emplace(replica, Conflict{first, message});
}

void History::record_submitted(const crypto::PublicKey& client, pbft::RequestId request_id,
                               const crypto::Digest& payload_digest) {
  submitted_[Key{client, request_id}] = payload_digest;
}

void History::record_accepted(const crypto::PublicKey& client, pbft::RequestId request_id,
                              const Bytes& result) {
  accepted_[Key{client, request_id}] = result;
}

void History::record_accusation(pbft::ReplicaId accused, std::string what,
                                std::optional<pbft::ReplicaId> accuser) {
  accusations_.push_back(Accusation{accused, std::move(what), accuser});
}

void History::record_alarm(pbft::ReplicaId replica, std::string what) {
  alarms_.emplace_back(replica, std::move(what));
}

void History::mark_faulty(pbft::ReplicaId replica) {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  faulty_.insert(replica);
}

const std::vector<HistoryStep>& History::steps(pbft::ReplicaId replica) const {
  PHALANX_ASSERT(replica < steps_.size(), "replica id out of range");
  return steps_[replica];
}

// --- Checker --------------------------------------------------------------------------

namespace {
std::string describe(const crypto::PublicKey& client, pbft::RequestId request_id) {
  return "(client " + client.short_hex() + ", request " + std::to_string(request_id) + ")";
}
std::string replica_name(pbft::ReplicaId replica) {
  return "replica " + std::to_string(replica);
}
}  // namespace

class Checker {
 public:
  Checker(const History& history, const CheckOptions& options)
      : history_(history), options_(options) {}

  std::vector<Violation> run() {
    for (pbft::ReplicaId replica = 0; replica < history_.replicas(); ++replica) {
      if (history_.faulty(replica)) continue;
      check_order(replica);
      check_requests(replica);
    }
    check_agreement();
    check_accusations();
    if (options_.durability) check_durability();
    if (options_.completion) check_completion();
    return std::move(violations_);
  }

 private:
  void add(Property property, std::string message) {
    if (violations_.size() < kViolationsMax) {
      violations_.push_back(Violation{property, std::move(message)});
    }
  }

  // S1: the first correct replica to execute a seq fixes what every other one must have;
  // and no correct replica saw its state or a new view contradict what it committed.
  void check_agreement() {
    for (const auto& [replica, what] : history_.alarms())
      if (!history_.faulty(replica)) add(Property::kAgreement, replica_name(replica) + " " + what);
    std::map<pbft::Seq, std::pair<pbft::ReplicaId, const HistoryStep*>> first;
    for (pbft::ReplicaId replica = 0; replica < history_.replicas(); ++replica) {
      if (history_.faulty(replica)) continue;
      for (const HistoryStep& step : history_.steps(replica)) {
        if (step.kind != HistoryStep::Kind::kExecuted) continue;
        auto [it, inserted] = first.try_emplace(step.seq, replica, &step);
        if (inserted || *it->second.second == step) continue;
        const HistoryStep& other = *it->second.second;
        std::string what = other.digest == step.digest
                               ? "the same batch digest " + step.digest.short_hex() +
                                     " with different requests or duplicate flags"
                               : "different batches (digest " + other.digest.short_hex() + " vs " +
                                     step.digest.short_hex() + ")";
        add(Property::kAgreement, replica_name(it->second.first) + " and " + replica_name(replica) +
                                      " executed " + what + " at seq " + std::to_string(step.seq));
      }
    }
  }

  // S2: consecutive seqs from 1, except across a state-transfer jump or a restart.
  void check_order(pbft::ReplicaId replica) {
    pbft::Seq last = 0;  // the seq whose state the replica holds
    for (const HistoryStep& step : history_.steps(replica)) {
      if (step.kind == HistoryStep::Kind::kCrash) continue;
      if (step.kind == HistoryStep::Kind::kRestart) {
        last = step.seq;  // back to its snapshot; what it executes next must agree (S1)
        continue;
      }
      if (step.kind == HistoryStep::Kind::kStateTransfer) {
        if (step.seq < last) {
          add(Property::kTotalOrder, replica_name(replica) + " adopted state at seq " +
                                         std::to_string(step.seq) + " after executing seq " +
                                         std::to_string(last) + " (a rollback)");
        }
        last = step.seq;
        continue;
      }
      if (step.seq != last + 1) {
        add(Property::kTotalOrder,
            replica_name(replica) + " executed seq " + std::to_string(step.seq) + " after seq " +
                std::to_string(last) + " (expected seq " + std::to_string(last + 1) +
                (step.seq <= last ? "; a repeat)" : "; a gap)"));
      }
      last = step.seq;
    }
  }

  // S3: exactly-once per replica, and validity against what correct clients submitted.
  void check_requests(pbft::ReplicaId replica) {
    std::map<History::Key, pbft::Seq> executed_at;
    for (const HistoryStep& step : history_.steps(replica)) {
      if (step.kind == HistoryStep::Kind::kRestart) {
        // What it executed above its snapshot is undone; it will execute it again.
        std::erase_if(executed_at, [&](const auto& entry) { return entry.second > step.seq; });
        continue;
      }
      for (const RequestRecord& request : step.requests) {
        if (request.duplicate) continue;
        History::Key key{request.client, request.request_id};
        std::string who = describe(request.client, request.request_id);
        auto [it, inserted] = executed_at.try_emplace(key, step.seq);
        if (!inserted) {
          add(Property::kExactlyOnce, replica_name(replica) + " executed " + who +
                                          " twice: at seq " + std::to_string(it->second) +
                                          " and at seq " + std::to_string(step.seq));
        }
        auto submitted = history_.submitted_.find(key);
        if (submitted == history_.submitted_.end()) {
          add(Property::kValidity, replica_name(replica) + " executed " + who + " at seq " +
                                       std::to_string(step.seq) +
                                       ", which no correct client submitted");
        } else if (submitted->second != request.payload_digest) {
          add(Property::kValidity,
              replica_name(replica) + " executed " + who + " at seq " + std::to_string(step.seq) +
                  " with payload digest " + request.payload_digest.short_hex() +
                  ", but the client submitted " + submitted->second.short_hex());
        }
      }
    }
  }

  void check_accusations() {
    for (const auto& accusation : history_.accusations_) {
      if (history_.faulty(accusation.accused)) continue;
      add(Property::kAccountability,
          "correct " + replica_name(accusation.accused) + " was accused: " + accusation.what);
    }
    for (const auto& [replica, conflict] : history_.conflicts_) {
      if (history_.faulty(replica)) continue;
      const SignedMessage& message = conflict.second;
      add(Property::kAccountability,
          "correct " + replica_name(replica) + " signed two different " +
              std::string(wire::Kind_Name(message.kind)) + " messages for view " +
              std::to_string(message.view) + " seq " + std::to_string(message.seq) + " (" +
              conflict.first.content.short_hex() + " and " + message.content.short_hex() + ")");
    }
  }

  // S4: where each accepted request executed, and whether a correct replica that is up
  // still holds a state that far.
  void check_durability() {
    std::map<History::Key, pbft::Seq> executed_at;
    pbft::Seq reached = 0;  // the furthest state of a correct replica that is up
    bool any_up = false;
    for (pbft::ReplicaId replica = 0; replica < history_.replicas(); ++replica) {
      if (history_.faulty(replica)) continue;
      const auto& steps = history_.steps(replica);
      for (const HistoryStep& step : steps)
        for (const RequestRecord& request : step.requests)
          if (!request.duplicate)
            executed_at.try_emplace({request.client, request.request_id}, step.seq);
      if (!steps.empty() && steps.back().kind == HistoryStep::Kind::kCrash) continue;
      any_up = true;
      if (!steps.empty()) reached = std::max(reached, steps.back().seq);
    }
    for (const auto& [key, result] : history_.accepted_) {
      auto found = executed_at.find(key);
      if (found == executed_at.end()) {
        add(Property::kDurability, describe(key.client, key.request_id) +
                                       " was accepted, but no correct replica executed it");
      } else if (!any_up || reached < found->second) {
        add(Property::kDurability, describe(key.client, key.request_id) + " was accepted at seq " +
                                       std::to_string(found->second) +
                                       ", but no correct replica that is up holds a "
                                       "state that far (the furthest: seq " +
                                       std::to_string(reached) + ")");
      }
    }
  }

  void check_completion() {
    for (const auto& [key, digest] : history_.submitted_) {
      if (history_.accepted_.count(key) == 0) {
        add(Property::kCompletion, describe(key.client, key.request_id) +
                                       " was submitted but its client never accepted a result");
      }
    }
  }

  const History& history_;
  const CheckOptions& options_;
  std::vector<Violation> violations_;
};

std::vector<Violation> check(const History& history, const CheckOptions& options) {
  return Checker(history, options).run();
}

}  // namespace phalanx::adversary
