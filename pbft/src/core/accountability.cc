// Accountability (S5): every message another replica signed, seen directly or inside a
// certificate, goes through the evidence ledger (evidence_ledger.h). Two different
// messages from one signer for one slot are reported as Evidence (actions.h) with both
// envelopes, whoever passed them on: an equivocating backup whose votes never meet at one
// replica directly is still caught when a certificate carrying one of them reaches a
// replica that holds the other.
#include "core/replica_core.h"

namespace phalanx::pbft {

namespace {
crypto::Digest digest_of(const std::string& bytes) {
  return *crypto::Digest::from_bytes(bytes);
}
}  // namespace

// A replica that signed two conflicting messages is faulty, and every correct replica can
// check the proof. If it is our primary, we pass the proof on to every replica (the two
// envelopes as they are: each receiver's ledger finds the conflict itself) and move to the
// next view: a provably faulty primary is deposed even while it keeps the cluster going
// (say, lying to one replica only). No correct primary can be deposed this way: it would
// take its own two signatures.
void Replica::Core::note_equivocation(std::optional<core::Equivocation> equivocation) {
  if (!equivocation || equivocation->signer == id_) return;
  const bool our_primary = equivocation->signer == quorums_.primary(view_) && !view_changing_;
  report_evidence(equivocation->signer, std::move(equivocation->what), equivocation->first,
                  equivocation->second);
  if (!our_primary) return;
  send(equivocation->first, std::nullopt);
  send(equivocation->second, std::nullopt);
  if (!may_vote() || is_primary()) return;
  drop("the primary equivocated: view change");
  start_view_change(view_ + 1, "the primary equivocated");
}

// A message as it arrived: its slot is in the body, already decoded.
void Replica::Core::observe_signed(const Message& message) {
  const EnvelopePtr& envelope = message.envelope;
  std::visit(
      [&](const auto& body) {
        using Kind = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Kind, wire::PrePrepare> ||
                      std::is_same_v<Kind, wire::Prepare> || std::is_same_v<Kind, wire::Commit>) {
          note_equivocation(
              evidence_.observe(envelope, body.view(), body.seq(), digest_of(body.digest())));
        } else if constexpr (std::is_same_v<Kind, wire::Checkpoint> ||
                             std::is_same_v<Kind, wire::NewView>) {
          note_equivocation(evidence_.observe(envelope));
          if constexpr (std::is_same_v<Kind, wire::NewView>) {
            for (const auto& view_change : body.view_changes()) observe_nested(view_change);
            for (const auto& pre_prepare : body.pre_prepares()) observe_nested(pre_prepare);
          }
        } else if constexpr (std::is_same_v<Kind, wire::ViewChange>) {
          note_equivocation(evidence_.observe(envelope));
          observe_certificates(body);
        } else if constexpr (std::is_same_v<Kind, wire::CommitCertificate>) {
          observe_nested(body.pre_prepare());
          for (const auto& commit : body.commits()) observe_nested(commit);
        } else if constexpr (std::is_same_v<Kind, wire::CheckpointCertificate>) {
          for (const auto& checkpoint : body.checkpoints()) observe_nested(checkpoint);
        }
      },
      message.body);
}

void Replica::Core::observe_nested(const wire::Envelope& envelope) {
  if (envelope.sender() == id_ || envelope.kind() == wire::REQUEST) return;
  note_equivocation(evidence_.observe(std::make_shared<const wire::Envelope>(envelope)));
}

// A view change's checkpoint proof and prepared certificates (verified at the edge).
void Replica::Core::observe_certificates(const wire::ViewChange& view_change) {
  for (const auto& checkpoint : view_change.checkpoint_proof()) observe_nested(checkpoint);
  for (const auto& certificate : view_change.prepared()) {
    observe_nested(certificate.pre_prepare());
    for (const auto& prepare : certificate.prepares()) observe_nested(prepare);
  }
}

}  // namespace phalanx::pbft
