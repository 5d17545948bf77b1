#pragma once
// EvidenceLedger: the first message each replica signed for each slot, as this replica
// saw it, directly or inside a certificate (a commit certificate's COMMITs, a view
// change's prepared certificates and checkpoint proof, a new view's view changes). A
// second, different message from the same signer for the same slot is proof that the
// signer equivocated (S5): both envelopes are kept as the evidence.
//
// Slots: PRE-PREPARE, PREPARE, COMMIT by (view, seq); CHECKPOINT by seq; VIEW-CHANGE and
// NEW-VIEW by view. "Different" compares what the message says about its slot: the
// batch digest, the state digest and size, or the whole payload of a view change.
//
// Bounded: slots at or below the stable checkpoint and views long past are forgotten, and
// at most entries_max entries are kept (the oldest slots go first).
// Thread-safety: none (part of the core).

#include <cstddef>
#include <map>
#include <optional>
#include <utility>

#include "core/slot.h"
#include "phalanx.pb.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

struct Equivocation {
  ReplicaId signer = 0;
  std::string what;  // e.g. "two PREPAREs for view 3 seq 17"
  EnvelopePtr first;
  EnvelopePtr second;
};

class EvidenceLedger {
 public:
  explicit EvidenceLedger(std::size_t entries_max) : entries_max_(entries_max) {}

  // Records `envelope` (verified: its signature and the signer's identity are checked);
  // returns the equivocation it proves, the first time one is seen for that slot.
  std::optional<Equivocation> observe(const EnvelopePtr& envelope);
  // The same for a message whose slot and content the caller already knows.
  std::optional<Equivocation> observe(const EnvelopePtr& envelope, View view, Seq seq,
                                      const crypto::Digest& content);

  void forget_below(Seq stable, View view_floor);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Key {
    ReplicaId signer;
    wire::Kind kind;
    View view;
    Seq seq;
    auto operator<=>(const Key&) const = default;
  };
  struct Entry {
    crypto::Digest content;
    EnvelopePtr envelope;
    bool reported = false;
  };

  std::size_t entries_max_;
  std::map<Key, Entry> entries_;
};

// The slot a signed message is about and what it says there; nullopt for kinds without
// a slot and for payloads that do not decode.
struct SlotContent {
  View view = 0;
  Seq seq = 0;
  crypto::Digest content;
};
std::optional<SlotContent> slot_content(const wire::Envelope& envelope);

}  // namespace phalanx::pbft::core
