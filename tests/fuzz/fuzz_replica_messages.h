#pragma once
// fuzz_replica's side of the cluster: the peers of the replica under test and what they
// know, from which the harness makes validly signed messages that often match the
// replica's state (a batch it saw proposed, a checkpoint it took, the view at hand).
//
// - Program: the fuzzer's input, read front to back as the choices of a program.
// - Forge: the peers' signatures. One peer is Byzantine and signs anything. The other two
//   are honest in what the core relies on from at most f faulty replicas: they never sign
//   two different messages for one slot (the evidence ledger's slots), sign only
//   checkpoints of states the replica under test reached, and sign only NEW-VIEWs whose
//   re-proposals follow from their view changes. Nobody signs as the replica under test.
//   So a replica that accuses an honest peer, or that certifies a state that does not
//   restore, shows a bug of its own, not a harness with more than f liars.
// - Knowledge: what the harness delivered and what the replica sent.
// - Composer: certificates, view changes, new views and state chunks built from both.
//
// The core's own NEW-VIEW plan and Merkle tree (pbft/src/core) are used on purpose: an
// honest primary computes its re-proposals, and an honest peer its chunk proofs, exactly
// as a correct replica does.
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/evidence_ledger.h"
#include "core/merkle.h"
#include "core/new_view_plan.h"
#include "fuzz_cluster.h"
#include "phalanx/crypto/verify_cache.h"
#include "phalanx/pbft/durable.h"
#include "phalanx/pbft/options.h"

namespace phalanx::fuzz {

using pbft::ReplicaId;
using pbft::RequestId;
using pbft::Seq;
using pbft::SharedBytes;
using pbft::View;
using EnvelopePtr = std::shared_ptr<const wire::Envelope>;
using Envelopes = google::protobuf::RepeatedPtrField<wire::Envelope>;

inline constexpr std::uint64_t kClients = 3;

// Bounds on what the harness remembers, so that a long program stays fast.
inline constexpr std::size_t kRequestsKept = 16;
inline constexpr std::size_t kBatchesKept = 32;
inline constexpr std::size_t kViewsKept = 8;
inline constexpr std::size_t kFetchesKept = 16;
inline constexpr std::size_t kEnvelopesKept = 16;
inline constexpr std::size_t kSignaturesMemoMax = 1 << 14;
inline constexpr std::size_t kVerifiedMax = 1 << 16;

// The input as a program: every read past its end is zero, so any input is a whole one.
class Program {
 public:
  Program(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return offset_ >= size_; }
  std::uint8_t byte() { return offset_ < size_ ? data_[offset_++] : 0; }
  std::size_t pick(std::size_t count) { return byte() % count; }
  std::uint64_t u64() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= std::uint64_t{byte()} << (8 * i);
    return value;
  }
  Bytes bytes(std::size_t size_max) {
    Bytes out(pick(size_max + 1), '\0');
    for (char& c : out) c = static_cast<char>(byte());
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

// --- signatures ---------------------------------------------------------------------------

// The cluster's signers, made once: deriving a key costs more than a whole step.
inline const crypto::Signer& replica_signer(ReplicaId id) {
  static const auto signers = [] {
    std::vector<std::unique_ptr<crypto::Signer>> all;
    for (ReplicaId replica = 0; replica < kReplicas; ++replica)
      all.push_back(std::make_unique<crypto::Signer>(replica_key(replica)));
    return all;
  }();
  return *signers.at(id);
}

inline const crypto::Signer& client_signer(std::uint64_t index) {
  static const auto signers = [] {
    std::vector<std::unique_ptr<crypto::Signer>> all;
    for (std::uint64_t client = 0; client < kClients; ++client)
      all.push_back(std::make_unique<crypto::Signer>(client_key(client)));
    return all;
  }();
  return *signers.at(index);
}

// The edge every delivery goes through: the cluster's keys (derived once) and a cache of
// the signatures found valid, kept across runs since the programs of a corpus send mostly
// the same messages. (It changes no outcome, only the time. A run that adds to it looks
// like a leak to libFuzzer, which runs it again to check; the second run adds nothing.)
inline const pbft::Verifier& fuzz_verifier() {
  static const pbft::Verifier verifier = [] {
    pbft::Verifier made = cluster_verifier();
    made.cache = std::make_shared<crypto::VerifyCache>(kVerifiedMax);
    return made;
  }();
  return verifier;
}

// Ed25519 is deterministic, so a signature made once serves every later run that signs
// the same bytes, and the programs of a corpus sign mostly the same ones. A fixed table
// (a collision evicts): nothing allocated that outlives a run, which libFuzzer would take
// for a leak and re-run the input to check.
inline crypto::Signature memo_sign(const crypto::Signer& signer, wire::Kind kind,
                                   ByteView payload) {
  struct Entry {
    crypto::PublicKey key;
    crypto::Digest digest;
    crypto::Signature signature;
  };
  static std::array<Entry, kSignaturesMemoMax> memo;
  crypto::Digest digest =
      pbft::signing_digest(kClusterId, kind, payload);
  std::size_t slot = 0;
  for (std::size_t i = 0; i < sizeof slot; ++i)
    slot = slot << 8 | (digest.array()[i] ^ signer.public_key().array()[i]);
  Entry& entry = memo[slot % memo.size()];
  if (entry.key != signer.public_key() || entry.digest != digest)
    entry = Entry{signer.public_key(), digest, signer.sign_digest(digest)};
  return entry.signature;
}

inline wire::Envelope signed_request(std::uint64_t client, RequestId id, Bytes operation) {
  const crypto::Signer& signer = client_signer(client % kClients);
  wire::Request body;
  body.set_client_key(signer.public_key().bytes());
  body.set_request_id(id);
  body.set_operation(std::move(operation));
  wire::Envelope envelope;
  envelope.set_kind(wire::REQUEST);
  envelope.set_client_key(signer.public_key().bytes());
  envelope.set_payload(pbft::encode(body));
  envelope.set_signature(memo_sign(signer, wire::REQUEST, envelope.payload()).bytes());
  return envelope;
}

class Forge {
 public:
  Forge(const pbft::Verifier& verifier, ReplicaId tested, ReplicaId byzantine, Seq window)
      : verifier_(verifier), tested_(tested), byzantine_(byzantine), window_(window) {}

  ReplicaId byzantine() const { return byzantine_; }
  bool honest(ReplicaId replica) const { return replica != byzantine_; }

  // `payload` signed as a `kind` of replica `signer`. nullopt for the replica under test
  // (its key is its own) and for what an honest peer never signs; an honest peer asked to
  // contradict itself repeats what it signed for that slot instead.
  std::optional<wire::Envelope> sign(ReplicaId signer, wire::Kind kind, Bytes payload) {
    if (signer == tested_ || signer >= kReplicas) return std::nullopt;
    wire::Envelope envelope;
    envelope.set_kind(kind);
    envelope.set_sender(signer);
    envelope.set_payload(std::move(payload));
    if (honest(signer)) {
      if (!keeps_promises(envelope)) return std::nullopt;
      if (const wire::Envelope* earlier = contradicted(envelope)) return *earlier;
    }
    envelope.set_signature(memo_sign(replica_signer(signer), kind, envelope.payload()).bytes());
    if (honest(signer)) remember(envelope);
    return envelope;
  }
  template <typename Proto>
  std::optional<wire::Envelope> sign(ReplicaId signer, wire::Kind kind, const Proto& body) {
    return sign(signer, kind, pbft::encode(body));
  }

  // What honest `signer` signed for a slot (as core::slot_content names slots), if anything.
  const wire::Envelope* signed_before(ReplicaId signer, wire::Kind kind, View view, Seq seq) const {
    auto found = first_.find(SlotKey{signer, kind, view, seq});
    return found == first_.end() ? nullptr : &found->second.envelope;
  }

  // A checkpoint the replica under test took: honest peers may certify that state.
  void learn_checkpoint(Seq seq, const crypto::Digest& digest, std::uint64_t size) {
    checkpoints_.try_emplace(seq, digest, size);
  }

 private:
  struct SlotKey {
    ReplicaId signer;
    wire::Kind kind;
    View view;
    Seq seq;
    auto operator<=>(const SlotKey&) const = default;
  };
  struct Signed {
    crypto::Digest content;
    wire::Envelope envelope;
  };

  bool keeps_promises(const wire::Envelope& envelope) const {
    if (envelope.kind() == wire::CHECKPOINT) return true_checkpoint(envelope.payload());
    if (envelope.kind() == wire::NEW_VIEW) return follows_its_plan(envelope.payload());
    return true;
  }

  bool true_checkpoint(const Bytes& payload) const {
    wire::Checkpoint checkpoint;
    if (!checkpoint.ParseFromString(payload)) return false;
    auto found = checkpoints_.find(checkpoint.seq());
    return found != checkpoints_.end() && found->second.first.view() == checkpoint.state_digest() &&
           found->second.second == checkpoint.state_size();
  }

  // The re-proposals a correct new primary computes from the view changes it carries
  // (view_change.cc, maybe_send_new_view). The view changes are opened first: the plan
  // trusts what the edge verified.
  bool follows_its_plan(const Bytes& payload) const {
    wire::NewView new_view;
    if (!new_view.ParseFromString(payload)) return false;
    std::vector<wire::ViewChange> bodies;
    for (const auto& envelope : new_view.view_changes()) {
      auto opened = pbft::open_decoded(std::make_shared<const wire::Envelope>(envelope), verifier_,
                                       pbft::Audience::kReplica);
      if (!opened.ok() || envelope.kind() != wire::VIEW_CHANGE) return false;
      bodies.push_back(std::get<wire::ViewChange>(opened.message->body));
    }
    std::vector<const wire::ViewChange*> chosen;
    for (const auto& body : bodies) chosen.push_back(&body);
    return pbft::core::matches_plan(pbft::core::plan_new_view(chosen, window_),
                                    new_view.pre_prepares());
  }

  const wire::Envelope* contradicted(const wire::Envelope& envelope) const {
    auto slot = pbft::core::slot_content(envelope);
    if (!slot) return nullptr;
    auto found = first_.find(SlotKey{envelope.sender(), envelope.kind(), slot->view, slot->seq});
    if (found == first_.end() || found->second.content == slot->content) return nullptr;
    return &found->second.envelope;
  }

  void remember(const wire::Envelope& envelope) {
    if (auto slot = pbft::core::slot_content(envelope))
      first_.try_emplace(SlotKey{envelope.sender(), envelope.kind(), slot->view, slot->seq},
                         Signed{slot->content, envelope});
  }

  const pbft::Verifier& verifier_;
  ReplicaId tested_;
  ReplicaId byzantine_;
  Seq window_;
  std::map<SlotKey, Signed> first_;  // honest peers: the first message per slot
  std::map<Seq, std::pair<crypto::Digest, std::uint64_t>> checkpoints_;
};

// --- what the harness knows -------------------------------------------------------------

// A PRE-PREPARE seen in the cluster: proposed by a peer, by the replica, or re-proposed.
struct KnownBatch {
  EnvelopePtr pre_prepare;
  wire::PrePrepare body;
  bool prepared = false;  // the peers' PREPAREs for it went out (honest view changes carry it)
};

// A checkpoint the replica under test took (its state is the true one at that seq).
struct KnownCheckpoint {
  crypto::Digest digest;
  std::uint64_t size = 0;
  SharedBytes state;                  // from the replica's snapshot, once it made one
  std::optional<wire::Envelope> own;  // the replica's CHECKPOINT
  bool voted = false;                 // the peers sent theirs
};

struct FetchRequest {
  ReplicaId to = 0;
  Seq seq = 0;
  std::uint64_t index = 0;
};

class Knowledge {
 public:
  std::deque<wire::Envelope> requests;
  std::deque<KnownBatch> batches;
  std::map<Seq, KnownCheckpoint> checkpoints;
  std::map<View, std::map<ReplicaId, wire::Envelope>> view_changes;  // valid ones only
  std::deque<FetchRequest> fetches;                                  // the replica's FETCH_STATEs
  std::deque<wire::Envelope> accepted;  // delivered and accepted at the edge (replays)
  std::deque<wire::Envelope> own_sent;  // the replica's own (they come back as replays)

  // A message the edge accepted.
  void note_accepted(const wire::Envelope& envelope) {
    keep(accepted, envelope, kEnvelopesKept);
    if (envelope.kind() == wire::REQUEST) add_request(envelope);
    if (envelope.kind() == wire::PRE_PREPARE) add_batch(envelope);
    if (envelope.kind() == wire::VIEW_CHANGE) add_view_change(envelope);
    if (envelope.kind() == wire::NEW_VIEW) add_new_view(envelope);
  }

  // A message the replica under test sent (`to`: nullopt for everyone).
  void note_sent(const wire::Envelope& envelope, std::optional<ReplicaId> to, Forge& forge) {
    keep(own_sent, envelope, kEnvelopesKept);
    switch (envelope.kind()) {
      case wire::PRE_PREPARE:
        return add_batch(envelope);
      case wire::PREPARE:
      case wire::COMMIT:
        return add_own_vote(envelope);
      case wire::CHECKPOINT:
        return add_own_checkpoint(envelope, forge);
      case wire::VIEW_CHANGE:
        return add_view_change(envelope);
      case wire::NEW_VIEW:
        return add_new_view(envelope);
      case wire::FETCH_STATE:
        return add_fetch(envelope, to.value_or(0));
      default:
        return;
    }
  }

  void note_snapshot(const pbft::Snapshot& snapshot, Forge& forge) {
    auto [it, added] = checkpoints.try_emplace(snapshot.seq);
    if (added) {
      it->second.digest = snapshot.digest;
      it->second.size = snapshot.state->size();
      forge.learn_checkpoint(snapshot.seq, snapshot.digest, it->second.size);
    }
    if (it->second.digest == snapshot.digest) it->second.state = snapshot.state;
  }

  const wire::Envelope* own_vote(wire::Kind kind, View view, Seq seq,
                                 const crypto::Digest& digest) const {
    auto found = own_votes_.find(VoteKey{kind, view, seq, digest});
    return found == own_votes_.end() ? nullptr : &found->second;
  }

  // The number after the highest batch known in `view`, or after what the replica executed.
  Seq next_seq(View view, Seq last_executed) const {
    Seq highest = last_executed;
    for (const auto& batch : batches)
      if (batch.body.view() == view) highest = std::max(highest, batch.body.seq());
    return highest + 1;
  }

  // The highest checkpoint the peers certified (0: the initial state).
  Seq highest_voted() const {
    for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it)
      if (it->second.voted) return it->first;
    return 0;
  }

  // Per seq in (stable, stable + window], the batch the peers prepared in the highest view
  // before `new_view`: what an honest peer's VIEW-CHANGE reports (PBFT 4.4's P set).
  std::vector<KnownBatch> prepared_above(Seq stable, View new_view, Seq window) const {
    std::map<Seq, const KnownBatch*> chosen;
    for (const auto& batch : batches) {
      Seq seq = batch.body.seq();
      if (!batch.prepared || seq <= stable || seq > stable + window) continue;
      if (batch.body.view() >= new_view) continue;
      auto [it, added] = chosen.try_emplace(seq, &batch);
      if (!added && batch.body.view() > it->second->body.view()) it->second = &batch;
    }
    std::vector<KnownBatch> out;
    for (const auto& [seq, batch] : chosen) out.push_back(*batch);
    return out;
  }

  void mark_prepared(const KnownBatch& batch) {
    for (auto& known : batches)
      if (known.pre_prepare == batch.pre_prepare) known.prepared = true;
  }

  void add_view_change(const wire::Envelope& envelope) {
    wire::ViewChange body;
    if (!body.ParseFromString(envelope.payload())) return;
    view_changes[body.new_view()].try_emplace(envelope.sender(), envelope);
    while (view_changes.size() > kViewsKept) view_changes.erase(view_changes.begin());
  }

 private:
  using VoteKey = std::tuple<wire::Kind, View, Seq, crypto::Digest>;

  template <typename Item>
  static void keep(std::deque<Item>& items, Item item, std::size_t kept_max) {
    items.push_back(std::move(item));
    if (items.size() > kept_max) items.pop_front();
  }

  void add_request(const wire::Envelope& envelope) {
    for (const auto& known : requests)
      if (known.payload() == envelope.payload()) return;
    keep(requests, envelope, kRequestsKept);
  }

  void add_batch(const wire::Envelope& envelope) {
    KnownBatch batch{std::make_shared<const wire::Envelope>(envelope), {}, false};
    if (!batch.body.ParseFromString(envelope.payload())) return;
    for (const auto& known : batches)
      if (known.pre_prepare->payload() == envelope.payload()) return;
    keep(batches, std::move(batch), kBatchesKept);
  }

  void add_new_view(const wire::Envelope& envelope) {
    wire::NewView body;
    if (!body.ParseFromString(envelope.payload())) return;
    for (const auto& pre_prepare : body.pre_prepares()) add_batch(pre_prepare);
  }

  void add_own_vote(const wire::Envelope& envelope) {
    auto slot = pbft::core::slot_content(envelope);
    if (!slot) return;
    own_votes_.try_emplace(VoteKey{envelope.kind(), slot->view, slot->seq, slot->content},
                           envelope);
  }

  void add_own_checkpoint(const wire::Envelope& envelope, Forge& forge) {
    wire::Checkpoint body;
    if (!body.ParseFromString(envelope.payload())) return;
    auto digest = crypto::Digest::from_bytes(body.state_digest());
    if (!digest) return;
    auto [it, added] = checkpoints.try_emplace(body.seq());
    if (added) {
      it->second.digest = *digest;
      it->second.size = body.state_size();
      forge.learn_checkpoint(body.seq(), *digest, body.state_size());
    }
    if (!it->second.own && it->second.digest == *digest) it->second.own = envelope;
  }

  void add_fetch(const wire::Envelope& envelope, ReplicaId to) {
    wire::FetchState body;
    if (!body.ParseFromString(envelope.payload())) return;
    keep(fetches, FetchRequest{to, body.seq(), body.chunk_index()}, kFetchesKept);
  }

  std::map<VoteKey, wire::Envelope> own_votes_;  // the replica's PREPAREs and COMMITs
};

// --- composite messages -----------------------------------------------------------------

template <typename Vote>
Vote vote_body(View view, Seq seq, const crypto::Digest& digest) {
  Vote vote;
  vote.set_view(view);
  vote.set_seq(seq);
  vote.set_digest(digest.bytes());
  return vote;
}

inline crypto::Digest digest_of(const KnownBatch& batch) {
  return crypto::Digest::from_bytes(batch.body.digest()).value_or(crypto::Digest{});
}

class Composer {
 public:
  Composer(ReplicaId tested, const pbft::ReplicaOptions& options, Forge& forge,
           Knowledge& knowledge)
      : tested_(tested), options_(options), forge_(forge), knowledge_(knowledge) {}

  // A PRE-PREPARE and 2f matching PREPAREs from distinct backups (the replica's own, if
  // it has one, counts).
  std::optional<wire::PreparedCertificate> prepared_certificate(const KnownBatch& batch) {
    const View view = batch.body.view();
    wire::PreparedCertificate certificate;
    *certificate.mutable_pre_prepare() = *batch.pre_prepare;
    for (ReplicaId backup = 0; backup < kReplicas; ++backup) {
      if (backup == quorums().primary(view)) continue;
      auto vote = vote_of(backup, wire::PREPARE, batch);
      if (vote) *certificate.add_prepares() = std::move(*vote);
      if (certificate.prepares_size() == static_cast<int>(2 * quorums().f())) return certificate;
    }
    return std::nullopt;
  }

  // 2f+1 COMMITs for the batch, from every replica but `excluded`.
  std::optional<wire::Envelope> commit_certificate(ReplicaId sender, const KnownBatch& batch,
                                                   ReplicaId excluded) {
    wire::CommitCertificate certificate;
    *certificate.mutable_pre_prepare() = *batch.pre_prepare;
    for (ReplicaId replica = 0; replica < kReplicas; ++replica) {
      if (replica == excluded) continue;
      auto vote = vote_of(replica, wire::COMMIT, batch);
      if (!vote) return std::nullopt;
      *certificate.add_commits() = std::move(*vote);
    }
    return forge_.sign(sender, wire::COMMIT_CERTIFICATE, certificate);
  }

  // 2f+1 matching CHECKPOINTs for a checkpoint the replica took, from all but `excluded`.
  std::optional<Envelopes> checkpoint_proof(Seq seq, ReplicaId excluded) {
    auto known = knowledge_.checkpoints.find(seq);
    if (known == knowledge_.checkpoints.end()) return std::nullopt;
    wire::Checkpoint body;
    body.set_seq(seq);
    body.set_state_digest(known->second.digest.bytes());
    body.set_state_size(known->second.size);
    Envelopes proof;
    for (ReplicaId replica = 0; replica < kReplicas; ++replica) {
      if (replica == excluded) continue;
      auto checkpoint =
          replica == tested_ ? known->second.own : forge_.sign(replica, wire::CHECKPOINT, body);
      if (!checkpoint) return std::nullopt;
      *proof.Add() = std::move(*checkpoint);
    }
    return proof;
  }

  std::optional<wire::Envelope> checkpoint_certificate(ReplicaId sender, Seq seq,
                                                       ReplicaId excluded) {
    auto proof = checkpoint_proof(seq, excluded);
    if (!proof) return std::nullopt;
    wire::CheckpointCertificate certificate;
    *certificate.mutable_checkpoints() = std::move(*proof);
    return forge_.sign(sender, wire::CHECKPOINT_CERTIFICATE, certificate);
  }

  // A VIEW-CHANGE claiming checkpoint `stable` (0: the initial state) and the prepared
  // certificates of `prepared` (the ones that fit: above `stable`, before `new_view`, in
  // increasing seq).
  std::optional<wire::Envelope> view_change(ReplicaId signer, View new_view, Seq stable,
                                            const std::vector<KnownBatch>& prepared) {
    wire::ViewChange body;
    body.set_new_view(new_view);
    body.set_stable_seq(stable);
    if (stable > 0) {
      auto proof = checkpoint_proof(stable, tested_);
      if (!proof) return std::nullopt;
      *body.mutable_checkpoint_proof() = std::move(*proof);
    }
    Seq previous = stable;
    for (const auto& batch : prepared) {
      if (batch.body.seq() <= previous || batch.body.view() >= new_view) continue;
      auto certificate = prepared_certificate(batch);
      if (!certificate) continue;
      *body.add_prepared() = std::move(*certificate);
      previous = batch.body.seq();
    }
    return forge_.sign(signer, wire::VIEW_CHANGE, body);
  }

  // What an honest peer asks for: its earlier VIEW-CHANGE for the view, or one from the
  // checkpoint the peers certified and the batches they prepared.
  std::optional<wire::Envelope> honest_view_change(ReplicaId signer, View new_view) {
    if (const auto* earlier = forge_.signed_before(signer, wire::VIEW_CHANGE, new_view, 0))
      return *earlier;
    Seq stable = knowledge_.highest_voted();
    return view_change(signer, new_view, stable,
                       knowledge_.prepared_above(stable, new_view, options_.window()));
  }

  // The NEW-VIEW of `view`'s primary over `view_changes`: the re-proposals of the plan
  // (as maybe_send_new_view makes them) or, `lie` > 0, a Byzantine variation of them.
  std::optional<wire::Envelope> new_view(View view, const std::vector<wire::Envelope>& view_changes,
                                         std::uint8_t lie) {
    const ReplicaId primary = quorums().primary(view);
    std::vector<wire::ViewChange> bodies(view_changes.size());
    std::vector<const wire::ViewChange*> chosen;
    wire::NewView body;
    body.set_view(view);
    for (std::size_t i = 0; i < view_changes.size(); ++i) {
      if (!bodies[i].ParseFromString(view_changes[i].payload())) return std::nullopt;
      chosen.push_back(&bodies[i]);
      *body.add_view_changes() = view_changes[i];
    }
    auto plan = pbft::core::plan_new_view(chosen, options_.window());
    for (const auto& reproposal : plan.reproposals) {
      wire::PrePrepare pre_prepare;
      pre_prepare.set_view(view);
      pre_prepare.set_seq(reproposal.seq);
      pre_prepare.set_digest(reproposal.digest.bytes());
      pre_prepare.set_batch_time(reproposal.batch->batch_time());
      *pre_prepare.mutable_requests() = reproposal.batch->requests();
      auto signed_pre_prepare = forge_.sign(primary, wire::PRE_PREPARE, pre_prepare);
      if (!signed_pre_prepare) return std::nullopt;
      *body.add_pre_prepares() = std::move(*signed_pre_prepare);
    }
    if (lie > 0 && !misplan(primary, lie, body)) return std::nullopt;
    return forge_.sign(primary, wire::NEW_VIEW, body);
  }

  // A STATE_CHUNK for chunk `index` of the checkpoint at `seq`: the true one with its
  // Merkle path when the harness holds that state, else made-up bytes.
  std::optional<wire::Envelope> state_chunk(ReplicaId sender, Seq seq, std::uint64_t index,
                                            bool corrupt) {
    wire::StateChunk chunk;
    chunk.set_seq(seq);
    chunk.set_chunk_index(static_cast<std::uint32_t>(index));
    auto known = knowledge_.checkpoints.find(seq);
    const std::uint64_t chunk_bytes = options_.state_chunk_bytes;
    if (known != knowledge_.checkpoints.end() && known->second.state &&
        index < pbft::core::chunk_count(known->second.state->size(), chunk_bytes)) {
      const Bytes& state = *known->second.state;
      chunk.set_data(Bytes(pbft::core::chunk_of(state, index, chunk_bytes)));
      for (const auto& sibling : pbft::core::MerkleTree(state, chunk_bytes).path(index))
        chunk.add_merkle_path(sibling.bytes());
    } else {
      chunk.set_data("made-up chunk " + std::to_string(index));
    }
    if (corrupt) chunk.mutable_data()->push_back('!');
    return forge_.sign(sender, wire::STATE_CHUNK, chunk);
  }

 private:
  pbft::Quorums quorums() const { return pbft::Quorums{kReplicas}; }

  // `replica`'s PREPARE or COMMIT for the batch: the replica's own as it sent it, or a
  // peer's, if what it signs for that slot is this batch.
  std::optional<wire::Envelope> vote_of(ReplicaId replica, wire::Kind kind,
                                        const KnownBatch& batch) {
    const View view = batch.body.view();
    const Seq seq = batch.body.seq();
    const crypto::Digest digest = digest_of(batch);
    if (replica == tested_) {
      const wire::Envelope* own = knowledge_.own_vote(kind, view, seq, digest);
      return own ? std::optional<wire::Envelope>(*own) : std::nullopt;
    }
    auto vote = kind == wire::PREPARE
                    ? forge_.sign(replica, kind, vote_body<wire::Prepare>(view, seq, digest))
                    : forge_.sign(replica, kind, vote_body<wire::Commit>(view, seq, digest));
    auto slot = vote ? pbft::core::slot_content(*vote) : std::nullopt;
    if (!slot || slot->content != digest) return std::nullopt;
    return vote;
  }

  // Re-proposals that do not follow from the view changes: one dropped, one replaced by a
  // null batch, or one too many. Only a Byzantine primary signs them (Forge).
  bool misplan(ReplicaId primary, std::uint8_t lie, wire::NewView& body) {
    auto& proposals = *body.mutable_pre_prepares();
    if (lie % 3 == 0 && !proposals.empty()) {
      proposals.RemoveLast();
      return true;
    }
    Seq seq = 1;
    if (!proposals.empty()) {
      wire::PrePrepare last;
      if (!last.ParseFromString(proposals.rbegin()->payload())) return false;
      seq = last.seq() + (lie % 3 == 1 ? 0 : 1);
      if (lie % 3 == 1) proposals.RemoveLast();
    }
    wire::PrePrepare null_batch;
    null_batch.set_view(body.view());
    null_batch.set_seq(seq);
    null_batch.set_digest(pbft::batch_digest(null_batch).bytes());
    auto pre_prepare = forge_.sign(primary, wire::PRE_PREPARE, null_batch);
    if (!pre_prepare) return false;
    *proposals.Add() = std::move(*pre_prepare);
    return true;
  }

  ReplicaId tested_;
  pbft::ReplicaOptions options_;
  Forge& forge_;
  Knowledge& knowledge_;
};

}  // namespace phalanx::fuzz
