// equivocate: a replica that tells two parts of the cluster two stories, both validly
// signed. The replicas in side B get, instead of its core's message, a conflicting one for
// the same slot; side A gets the honest core:
// - PRE-PREPARE (as primary): alternative(batch) (behaviours.h) at the same (view, seq);
// - PREPARE, COMMIT: the digest of alternative(batch), for the batch the core voted for
//   (learnt from the PRE-PREPAREs and NEW-VIEWs it received and its own PRE-PREPAREs), or a
//   digest derived from the original one when it never saw that batch;
// - CHECKPOINT: a state digest derived from the true one.
// Messages it relays for others (a retransmitted pre-prepare of the primary) pass
// unchanged: it cannot sign them.
//
// Two cruder lies, for the checks that must catch them (scripts/mutation-check plants the
// bugs they would exploit): digest=keep gives side B's pre-prepare the original batch's
// digest over the alternative requests (the edge's batch-digest check refuses it), and
// primary_votes=true makes a primary also send side B a PREPARE for its story (a primary's
// pre-prepare stands for its vote; a backup must not count a PREPARE from it, PBFT 4.2).
//
// One such replica is within f: any two quorums of 2f+1 share a correct replica, which
// votes for one story only, so the two stories cannot both commit (PBFT 4.2). Two replicas
// running it with the same side B (f+1: the primary and a backup) can make each side
// commit its own story, an agreement violation the checker must report.
#include <deque>

#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

using behaviours::signed_by;

// Batches whose alternative it remembers (for its PREPAREs and COMMITs); the oldest go.
constexpr std::size_t kKnownBatchesMax = 4096;

class Equivocate final : public Behaviour {
 public:
  struct Config {
    std::set<pbft::ReplicaId> side_b;
    std::set<std::string> what;  // pre-prepare, prepare, commit, checkpoint
    bool keep_digest = false;    // digest=keep
    bool primary_votes = false;
  };

  Equivocate(BehaviourContext context, Config config)
      : Behaviour(std::move(context)), config_(std::move(config)) {}
  std::string_view name() const override { return "equivocate"; }

  Emissions on_send(net::NodeId to, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (envelope.kind() == wire::PRE_PREPARE) learn(envelope);
    if (to >= context().replicas || !config_.side_b.count(static_cast<pbft::ReplicaId>(to)) ||
        !signed_by(envelope, context().id))
      return {{bytes}};
    // A broadcast reaches this once per destination: one lie for all of side B.
    if (lied_about_ != bytes) {
      lied_about_ = bytes;
      lie_ = conflicting(envelope);
      vote_ = lie_ && config_.primary_votes && envelope.kind() == wire::PRE_PREPARE
                  ? primary_prepare(*lie_)
                  : nullptr;
    }
    if (vote_) return {{lie_}, {vote_}};
    return {{lie_ ? lie_ : bytes}};
  }

  void on_receive(const wire::Envelope& envelope) override {
    switch (envelope.kind()) {
      case wire::PRE_PREPARE:
        return learn(envelope);
      case wire::NEW_VIEW:
        if (auto new_view = behaviours::parse<wire::NewView>(envelope.payload()))
          for (const auto& pre_prepare : new_view->pre_prepares()) learn(pre_prepare);
        return;
      case wire::COMMIT_CERTIFICATE:
        if (auto certificate = behaviours::parse<wire::CommitCertificate>(envelope.payload()))
          learn(certificate->pre_prepare());
        return;
      default:
        return;
    }
  }

 private:
  bool lies_about(std::string_view kind) const { return config_.what.count(std::string(kind)); }

  // The conflicting message for side B; null when there is none (a null batch has no
  // alternative) or this kind is not lied about.
  net::SharedBytes conflicting(const wire::Envelope& envelope) {
    switch (envelope.kind()) {
      case wire::PRE_PREPARE: {
        if (!lies_about("pre-prepare")) return nullptr;
        auto batch = behaviours::parse<wire::PrePrepare>(envelope.payload());
        if (!batch) return nullptr;
        auto other = behaviours::alternative(*batch);
        if (!other) return nullptr;
        if (config_.keep_digest) other->set_digest(batch->digest());
        return reseal(wire::PRE_PREPARE, pbft::encode(*other));
      }
      case wire::PREPARE:
        return lies_about("prepare") ? vote<wire::Prepare>(wire::PREPARE, envelope) : nullptr;
      case wire::COMMIT:
        return lies_about("commit") ? vote<wire::Commit>(wire::COMMIT, envelope) : nullptr;
      case wire::CHECKPOINT: {
        if (!lies_about("checkpoint")) return nullptr;
        auto checkpoint = behaviours::parse<wire::Checkpoint>(envelope.payload());
        if (!checkpoint) return nullptr;
        checkpoint->set_state_digest(
            behaviours::derived_digest(checkpoint->state_digest()).bytes());
        return reseal(wire::CHECKPOINT, pbft::encode(*checkpoint));
      }
      default:
        return nullptr;
    }
  }

  template <typename Vote>
  net::SharedBytes vote(wire::Kind kind, const wire::Envelope& envelope) {
    auto ballot = behaviours::parse<Vote>(envelope.payload());
    if (!ballot) return nullptr;
    auto known = alternatives_.find(ballot->digest());
    ballot->set_digest(known != alternatives_.end()
                           ? known->second
                           : behaviours::derived_digest(ballot->digest()).bytes());
    return reseal(kind, pbft::encode(*ballot));
  }

  // The PREPARE a primary must not send: for the pre-prepare side B got.
  net::SharedBytes primary_prepare(const Bytes& pre_prepare_envelope) {
    wire::Envelope envelope;
    if (!envelope.ParseFromString(pre_prepare_envelope)) return nullptr;
    auto batch = behaviours::parse<wire::PrePrepare>(envelope.payload());
    if (!batch) return nullptr;
    wire::Prepare prepare;
    prepare.set_view(batch->view());
    prepare.set_seq(batch->seq());
    prepare.set_digest(batch->digest());
    return reseal(wire::PREPARE, pbft::encode(prepare));
  }

  void learn(const wire::Envelope& envelope) {
    if (envelope.kind() != wire::PRE_PREPARE) return;
    auto batch = behaviours::parse<wire::PrePrepare>(envelope.payload());
    if (!batch || alternatives_.count(batch->digest())) return;
    auto other = behaviours::alternative(*batch);
    if (!other) return;
    if (learnt_.size() == kKnownBatchesMax) {
      alternatives_.erase(learnt_.front());
      learnt_.pop_front();
    }
    learnt_.push_back(batch->digest());
    alternatives_.emplace(batch->digest(), other->digest());
  }

  Config config_;
  std::map<Bytes, Bytes> alternatives_;  // batch digest -> digest of its alternative
  std::deque<Bytes> learnt_;             // the keys of alternatives_, oldest first
  net::SharedBytes lied_about_;          // the last message of the core lied about ...
  net::SharedBytes lie_;                 // ... and the lie (null: none)
  net::SharedBytes vote_;                // primary_votes: the PREPARE that goes with it
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_equivocate(BehaviourContext context) {
  // By default, the upper half of the other replicas hears the other story.
  std::vector<pbft::ReplicaId> others;
  for (pbft::ReplicaId id = 0; id < context.replicas; ++id)
    if (id != context.id) others.push_back(id);
  std::set<pbft::ReplicaId> upper_half(
      others.begin() + static_cast<std::ptrdiff_t>(others.size() / 2), others.end());
  behaviours::Params params(context);
  Equivocate::Config config{
      params.replicas("side_b", upper_half),
      params.subset("what", {"pre-prepare", "prepare", "commit", "checkpoint"}),
      params.choice("digest", "honest", {"honest", "keep"}) == "keep",
      params.flag("primary_votes", false)};
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(
      std::make_unique<Equivocate>(std::move(context), std::move(config)));
}

}  // namespace phalanx::adversary
