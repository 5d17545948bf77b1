#include "core/evidence_ledger.h"

#include <limits>
#include <string>

namespace phalanx::pbft::core {

namespace {
template <typename Vote>
std::optional<SlotContent> vote_content(const std::string& payload) {
  Vote vote;
  if (!vote.ParseFromString(payload)) return std::nullopt;
  auto digest = crypto::Digest::from_bytes(vote.digest());
  if (!digest) return std::nullopt;
  return SlotContent{vote.view(), vote.seq(), *digest};
}

std::string describe(wire::Kind kind, View view, Seq seq) {
  std::string name = wire::Kind_Name(kind);
  switch (kind) {
    case wire::CHECKPOINT:
      return "two " + name + "s for seq " + std::to_string(seq);
    case wire::VIEW_CHANGE:
    case wire::NEW_VIEW:
      return "two " + name + "s for view " + std::to_string(view);
    default:
      return "two " + name + "s for view " + std::to_string(view) + " seq " + std::to_string(seq);
  }
}
}  // namespace

std::optional<SlotContent> slot_content(const wire::Envelope& envelope) {
  switch (envelope.kind()) {
    case wire::PRE_PREPARE: {
      wire::PrePrepare pre_prepare;
      if (!pre_prepare.ParseFromString(envelope.payload())) return std::nullopt;
      auto digest = crypto::Digest::from_bytes(pre_prepare.digest());
      if (!digest) return std::nullopt;
      return SlotContent{pre_prepare.view(), pre_prepare.seq(), *digest};
    }
    case wire::PREPARE:
      return vote_content<wire::Prepare>(envelope.payload());
    case wire::COMMIT:
      return vote_content<wire::Commit>(envelope.payload());
    case wire::CHECKPOINT: {
      wire::Checkpoint checkpoint;
      if (!checkpoint.ParseFromString(envelope.payload())) return std::nullopt;
      crypto::Hasher content;
      content.update_field(checkpoint.state_digest()).update_u64(checkpoint.state_size());
      return SlotContent{0, checkpoint.seq(), content.finish()};
    }
    case wire::VIEW_CHANGE: {
      wire::ViewChange view_change;
      if (!view_change.ParseFromString(envelope.payload())) return std::nullopt;
      return SlotContent{view_change.new_view(), 0, crypto::blake2b(envelope.payload())};
    }
    case wire::NEW_VIEW: {
      wire::NewView new_view;
      if (!new_view.ParseFromString(envelope.payload())) return std::nullopt;
      return SlotContent{new_view.view(), 0, crypto::blake2b(envelope.payload())};
    }
    default:
      return std::nullopt;
  }
}

std::optional<Equivocation> EvidenceLedger::observe(const EnvelopePtr& envelope) {
  auto slot = slot_content(*envelope);
  if (!slot) return std::nullopt;
  return observe(envelope, slot->view, slot->seq, slot->content);
}

std::optional<Equivocation> EvidenceLedger::observe(const EnvelopePtr& envelope, View view, Seq seq,
                                                    const crypto::Digest& content) {
  Key key{envelope->sender(), envelope->kind(), view, seq};
  auto [it, inserted] = entries_.try_emplace(key, Entry{content, envelope, false});
  if (inserted) {
    // Over the bound, the oldest slot goes (map order: by signer, kind, view, seq; the
    // bound is far above what the window and a few views hold, so this is a backstop).
    if (entries_.size() > entries_max_)
      entries_.erase(entries_.begin() == it ? std::next(it) : entries_.begin());
    return std::nullopt;
  }
  if (it->second.content == content || it->second.reported) return std::nullopt;
  it->second.reported = true;  // once per slot: a liar's retransmissions are not news
  return Equivocation{key.signer, describe(key.kind, view, seq), it->second.envelope, envelope};
}

void EvidenceLedger::forget_below(Seq stable, View view_floor) {
  // Walks slot groups (signer, kind, view) rather than entries: what goes is a group's
  // first seqs (at or below `stable`) or whole groups (views long past), so a checkpoint
  // costs the groups and what it erases, not a walk over every entry of the window.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Key group = it->first;
    auto group_end = entries_.upper_bound(
        Key{group.signer, group.kind, group.view, std::numeric_limits<Seq>::max()});
    bool by_view = group.kind == wire::VIEW_CHANGE || group.kind == wire::NEW_VIEW;
    if (by_view ? group.view < view_floor : group.view + 4 < view_floor) {
      it = entries_.erase(it, group_end);
      continue;
    }
    if (!by_view)
      entries_.erase(it, entries_.upper_bound(Key{group.signer, group.kind, group.view, stable}));
    it = group_end;
  }
}

}  // namespace phalanx::pbft::core
