// viewchange-liar: a replica honest in the normal case that lies in view changes (PBFT 4.4),
// each lie validly signed by itself:
// - omit-prepared: its VIEW-CHANGEs carry no prepared certificates, as if nothing had
//   prepared here. Harmless: a batch that committed prepared at 2f+1 replicas, and any 2f+1
//   VIEW-CHANGEs include one of their correct ones.
// - stale-checkpoint: its VIEW-CHANGEs claim the oldest stable checkpoint it can prove (a
//   proof it assembled from CHECKPOINTs or received in a certificate, else the initial
//   state, which needs none) instead of the latest. Harmless: the new view starts from the
//   highest checkpoint among the 2f+1.
// - fabricate-prepared: its VIEW-CHANGEs add a prepared certificate for a batch nobody
//   proposed: a pre-prepare it signs as the primary of an older view, and prepares it
//   signs claiming other replicas. The edge rejects the whole VIEW-CHANGE
//   (bad_certificate), so the view change goes on without it.
// - bad-new-view: as the new primary, its NEW-VIEW's re-proposals do not follow from its
//   view changes (one dropped, or one batch changed and signed again; one added when there
//   are none). Every backup recomputes them, refuses it and moves to the next view.
// Messages it relays for others pass unchanged.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

using behaviours::parse;
using behaviours::signed_by;

// Checkpoint seqs whose votes it collects at once, looking for the oldest proof.
constexpr std::size_t kCheckpointSeqsMax = 8;
// Messages of its core it remembers the lie about (a VIEW-CHANGE is sent again to peers
// that missed it, and must get the same lie).
constexpr std::size_t kLiesMax = 8;

// A stable checkpoint and its proof (2f+1 matching CHECKPOINTs).
struct Proof {
  pbft::Seq seq = 0;
  std::vector<wire::Envelope> checkpoints;
};

class ViewChangeLiar final : public Behaviour {
 public:
  ViewChangeLiar(BehaviourContext context, std::string mode)
      : Behaviour(std::move(context)), mode_(std::move(mode)), quorums_{this->context().replicas} {}
  std::string_view name() const override { return "viewchange-liar"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (!signed_by(envelope, context().id)) return {{bytes}};
    switch (envelope.kind()) {
      case wire::CHECKPOINT:
        collect_vote(envelope);
        return {{bytes}};
      case wire::VIEW_CHANGE:
      case wire::NEW_VIEW:
        break;
      default:
        return {{bytes}};
    }
    // A broadcast reaches this once per destination, and the core sends its VIEW-CHANGE
    // and NEW-VIEW again to peers that missed them: one lie per message, told to all.
    auto told = lies_.find(envelope.payload());
    if (told == lies_.end()) {
      if (lies_.size() >= kLiesMax) lies_.clear();
      told = lies_.emplace(envelope.payload(), lie(envelope)).first;
    }
    return {{told->second ? told->second : bytes}};
  }

  void on_receive(const wire::Envelope& envelope) override {
    switch (envelope.kind()) {
      case wire::CHECKPOINT:
        return collect_vote(envelope);
      case wire::CHECKPOINT_CERTIFICATE:
        if (auto certificate = parse<wire::CheckpointCertificate>(envelope.payload()))
          offer_proof(certificate->checkpoints());
        return;
      case wire::VIEW_CHANGE:
        if (auto view_change = parse<wire::ViewChange>(envelope.payload()))
          offer_proof(view_change->checkpoint_proof());
        return;
      case wire::PRE_PREPARE:
        if (auto batch = parse<wire::PrePrepare>(envelope.payload());
            batch && !batch->requests().empty())
          last_batch_ = std::move(batch);
        return;
      default:
        return;
    }
  }

 private:
  // The lie told instead of the core's VIEW-CHANGE or NEW-VIEW; null for the truth (this
  // mode does not lie about it, or there is nothing to lie about).
  net::SharedBytes lie(const wire::Envelope& envelope) {
    if (envelope.kind() == wire::NEW_VIEW) {
      if (mode_ != "bad-new-view") return nullptr;
      auto new_view = parse<wire::NewView>(envelope.payload());
      return new_view ? bad_new_view(*new_view) : nullptr;
    }
    auto view_change = parse<wire::ViewChange>(envelope.payload());
    if (!view_change) return nullptr;
    offer_proof(view_change->checkpoint_proof());
    if (mode_ == "omit-prepared") {
      if (view_change->prepared().empty()) return nullptr;
      view_change->clear_prepared();
    } else if (mode_ == "stale-checkpoint") {
      if (view_change->stable_seq() == 0) return nullptr;
      // Its certificates are all above the true stable checkpoint, so above this one too.
      view_change->clear_checkpoint_proof();
      if (oldest_ && oldest_->seq < view_change->stable_seq()) {
        view_change->set_stable_seq(oldest_->seq);
        for (const auto& checkpoint : oldest_->checkpoints)
          *view_change->add_checkpoint_proof() = checkpoint;
      } else {
        view_change->set_stable_seq(0);
      }
    } else if (mode_ == "fabricate-prepared") {
      fabricate_prepared(*view_change);
    } else {
      return nullptr;
    }
    return reseal(wire::VIEW_CHANGE, pbft::encode(*view_change));
  }

  // A prepared certificate above every real one, for alternative(the last batch it saw)
  // or a null batch, "pre-prepared" by itself in an older view.
  void fabricate_prepared(wire::ViewChange& view_change) {
    pbft::Seq seq = view_change.stable_seq() + 1;
    if (!view_change.prepared().empty()) {
      const auto& certificate = view_change.prepared(view_change.prepared_size() - 1);
      auto last = parse<wire::PrePrepare>(certificate.pre_prepare().payload());
      if (last) seq = last->seq() + 1;
    }
    // The latest earlier view it was the primary of; if none, it claims view new_view - 1
    // (then the pre-prepare is a forgery too).
    pbft::View view = view_change.new_view() - 1;
    for (pbft::View earlier = view_change.new_view(); earlier-- > 0;)
      if (quorums_.primary(earlier) == context().id) {
        view = earlier;
        break;
      }
    wire::PrePrepare batch;
    if (last_batch_)
      if (auto other = behaviours::alternative(*last_batch_)) batch = std::move(*other);
    batch.set_view(view);
    batch.set_seq(seq);
    batch.set_digest(pbft::batch_digest(batch).bytes());

    wire::PreparedCertificate* certificate = view_change.add_prepared();
    *certificate->mutable_pre_prepare() =
        *behaviours::parse_envelope(*reseal(wire::PRE_PREPARE, pbft::encode(batch)));
    wire::Prepare prepare;
    prepare.set_view(view);
    prepare.set_seq(seq);
    prepare.set_digest(batch.digest());
    net::SharedBytes signed_prepare = reseal(wire::PREPARE, pbft::encode(prepare));
    std::uint32_t claimed = 0;
    for (pbft::ReplicaId id = 0; id < context().replicas && claimed < 2 * quorums_.f(); ++id) {
      if (id == quorums_.primary(view)) continue;
      *certificate->add_prepares() =
          *behaviours::parse_envelope(*behaviours::with_sender(signed_prepare, id));
      ++claimed;
    }
  }

  net::SharedBytes bad_new_view(wire::NewView new_view) {
    auto& proposals = *new_view.mutable_pre_prepares();
    std::vector<int> changeable;  // re-proposals with requests: they have an alternative
    for (int i = 0; i < proposals.size(); ++i) {
      auto batch = parse<wire::PrePrepare>(proposals[i].payload());
      if (batch && !batch->requests().empty()) changeable.push_back(i);
    }
    if (proposals.empty()) {
      // Nothing to re-propose: it proposes a null batch above the new view's checkpoint.
      pbft::Seq stable = 0;
      for (const auto& envelope : new_view.view_changes())
        if (auto view_change = parse<wire::ViewChange>(envelope.payload()))
          stable = std::max(stable, view_change->stable_seq());
      wire::PrePrepare null_batch;
      null_batch.set_view(new_view.view());
      null_batch.set_seq(stable + 1);
      null_batch.set_digest(pbft::batch_digest(null_batch).bytes());
      *proposals.Add() =
          *behaviours::parse_envelope(*reseal(wire::PRE_PREPARE, pbft::encode(null_batch)));
    } else if (changeable.empty() || rng().chance(0.5)) {
      proposals.erase(proposals.begin() + static_cast<int>(rng().uniform(0, proposals.size() - 1)));
    } else {
      int i = changeable[rng().uniform(0, changeable.size() - 1)];
      auto other = behaviours::alternative(*parse<wire::PrePrepare>(proposals[i].payload()));
      proposals[i] = *behaviours::parse_envelope(*reseal(wire::PRE_PREPARE, pbft::encode(*other)));
    }
    return reseal(wire::NEW_VIEW, pbft::encode(new_view));
  }

  // A proof older than the oldest it holds becomes the oldest.
  void offer_proof(const google::protobuf::RepeatedPtrField<wire::Envelope>& checkpoints) {
    if (checkpoints.empty()) return;
    auto first = parse<wire::Checkpoint>(checkpoints[0].payload());
    if (!first || first->seq() == 0 || (oldest_ && oldest_->seq <= first->seq())) return;
    oldest_ = Proof{first->seq(), {checkpoints.begin(), checkpoints.end()}};
    votes_.erase(votes_.lower_bound(oldest_->seq), votes_.end());
  }

  // CHECKPOINTs (its own and the others') for seqs below the oldest proof it holds, until
  // 2f+1 match: a proof of its own making.
  void collect_vote(const wire::Envelope& envelope) {
    auto checkpoint = parse<wire::Checkpoint>(envelope.payload());
    if (!checkpoint || checkpoint->seq() == 0 || (oldest_ && checkpoint->seq() >= oldest_->seq))
      return;
    if (!votes_.count(checkpoint->seq()) && votes_.size() >= kCheckpointSeqsMax) return;
    Bytes state = checkpoint->state_digest() + ":" + std::to_string(checkpoint->state_size());
    auto& voters = votes_[checkpoint->seq()][state];
    voters.emplace(envelope.sender(), envelope);
    if (voters.size() < quorums_.quorum()) return;
    Proof proof{checkpoint->seq(), {}};
    for (const auto& [sender, vote] : voters) proof.checkpoints.push_back(vote);
    proof.checkpoints.resize(quorums_.quorum());
    oldest_ = std::move(proof);
    votes_.erase(votes_.lower_bound(oldest_->seq), votes_.end());
  }

  std::string mode_;
  pbft::Quorums quorums_;
  std::optional<Proof> oldest_;
  // seq -> (state digest and size) -> signer -> CHECKPOINT
  std::map<pbft::Seq, std::map<Bytes, std::map<pbft::ReplicaId, wire::Envelope>>> votes_;
  std::optional<wire::PrePrepare> last_batch_;
  std::map<Bytes, net::SharedBytes> lies_;  // payload of the core's message -> the lie told
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_viewchange_liar(BehaviourContext context) {
  behaviours::Params params(context);
  std::string mode =
      params.choice("mode", std::nullopt,
                    {"omit-prepared", "stale-checkpoint", "fabricate-prepared", "bad-new-view"});
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(
      std::make_unique<ViewChangeLiar>(std::move(context), std::move(mode)));
}

}  // namespace phalanx::adversary
