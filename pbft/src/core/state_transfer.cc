// State transfer (PBFT 5.3.2, simplified to one Merkle tree over the checkpoint state): a
// replica behind the cluster's stable checkpoint fetches that checkpoint's state from the
// replicas that certified it, several chunks at a time, checking each chunk against the
// certified root on arrival, and moves to another peer when one is slow or lies. A lying
// peer can waste the fetcher's time, never feed it false state.
//
// The target stays put while the cluster moves on by one checkpoint: peers serve the
// state of their previous stable checkpoint too, and keep its committed slots, so that a
// fetcher that lands there catches up by the log. Were the target to follow every new
// checkpoint, a transfer slower than a checkpoint interval would start over for ever.
// Only when nobody serves the older one any more (no chunk for a few timeouts) does the
// target move to the stable checkpoint.
//
// Chunks are fetched from all the certifying peers at once (their bandwidth adds up), at
// most state_chunks_in_flight outstanding; a peer that lies is asked no more, a slow one
// rests for a timeout while the others take its share.
#include <algorithm>
#include <cstring>

#include "core/replica_core.h"
#include "phalanx/base/byte_io.h"

namespace phalanx::pbft {

// Timeouts without a single chunk after which a transfer of the previous stable
// checkpoint gives up on it for the stable one.
inline constexpr std::uint64_t kFetchStalledTimeouts = 3;

void Replica::Core::maybe_start_state_transfer() {
  if (fetch_ || stable_.seq <= last_executed_) return;
  // Give the log a chance first: a replica a few slots behind catches up by
  // retransmission, which is far cheaper than fetching the whole state.
  if (now_ < behind_since_ + kCatchUpGraceIntervals * options_.status_interval) return;

  StateFetch fetch;
  fetch.seq = stable_.seq;
  fetch.digest = stable_.digest;
  fetch.state_size = stable_.state_size;
  fetch.chunk_count = core::chunk_count(stable_.state_size, options_.state_chunk_bytes);
  // Every other replica, not only the proof's signers: any that holds the state can serve
  // it (each chunk is checked against the certified root), and a signer may be down.
  for (ReplicaId peer = 0; peer < quorums_.n; ++peer)
    if (peer != id_) {
      FetchPeer fetch_peer;
      fetch_peer.id = peer;
      fetch.peers.push_back(std::move(fetch_peer));
    }
  fetch.next_peer = id_ % fetch.peers.size();  // spread fetchers over peers
  fetch.progress_at = now_;
  fetch.received.resize(fetch.state_size);
  fetch.have.assign(fetch.chunk_count, false);
  fetch.asked_of.assign(fetch.chunk_count, -1);
  fetch_ = std::move(fetch);
  event(Event::Type::kStateTransferStarted, stable_.seq,
        std::to_string(fetch_->chunk_count) + " chunks of " +
            std::to_string(options_.state_chunk_bytes) + " bytes");
  request_chunks();
}

// Asks the peers that neither lied nor rest for the missing chunks nobody is asked for,
// round-robin, up to state_chunks_in_flight in all.
void Replica::Core::request_chunks() {
  PHALANX_ASSERT(fetch_.has_value(), "requesting chunks with no transfer under way");
  StateFetch& fetch = *fetch_;
  std::vector<std::size_t> usable;
  std::size_t in_flight = 0;
  for (std::size_t i = 0; i < fetch.peers.size(); ++i) {
    in_flight += fetch.peers[i].requested.size();
    if (!fetch.peers[i].lied && fetch.peers[i].resting_until <= now_) usable.push_back(i);
  }
  if (usable.empty()) {
    // Every peer lied (more than f liars: impossible with at most f faulty replicas, so a
    // bug elsewhere or a corrupted state everywhere) or rests: trust the liars again
    // rather than stall for ever; the Merkle proofs still guard us.
    bool all_lied = true;
    for (const auto& peer : fetch.peers) all_lied = all_lied && peer.lied;
    if (!all_lied) return;  // the resting ones are asked again when they wake
    for (auto& peer : fetch.peers) peer.lied = false;
    return request_chunks();
  }
  const std::size_t per_peer =
      (options_.state_chunks_in_flight + usable.size() - 1) / usable.size();
  std::size_t turn = fetch.next_peer;
  for (std::uint64_t index = fetch.first_missing;
       index < fetch.chunk_count && in_flight < options_.state_chunks_in_flight; ++index) {
    if (fetch.have[index] || fetch.asked_of[index] >= 0) continue;
    // The next usable peer with room, round-robin.
    std::optional<std::size_t> chosen;
    for (std::size_t tried = 0; tried < usable.size() && !chosen; ++tried, ++turn) {
      std::size_t candidate = usable[turn % usable.size()];
      if (fetch.peers[candidate].requested.size() < per_peer) chosen = candidate;
    }
    if (!chosen) break;
    FetchPeer& peer = fetch.peers[*chosen];
    wire::FetchState request;
    request.set_seq(fetch.seq);
    request.set_chunk_index(static_cast<std::uint32_t>(index));
    send(sign(wire::FETCH_STATE, encode(request)), peer.id);
    if (peer.requested.empty()) peer.deadline = now_ + options_.state_fetch_timeout;
    peer.requested.insert(index);
    fetch.asked_of[index] = static_cast<std::int32_t>(*chosen);
    ++in_flight;
  }
  fetch.next_peer = turn % fetch.peers.size();
}

// What a peer was asked for goes back to the pool (for the others).
void Replica::Core::give_up_on(FetchPeer& peer) {
  for (std::uint64_t index : peer.requested) fetch_->asked_of[index] = -1;
  peer.requested.clear();
}

// Peers that did not answer in time (slow, down, or lying by silence) rest for a timeout;
// their chunks go to the others.
void Replica::Core::expire_fetch_peers() {
  if (!fetch_) return;
  if (fetch_->seq < stable_.seq &&
      now_ >= fetch_->progress_at + kFetchStalledTimeouts * options_.state_fetch_timeout) {
    // Nobody served a chunk of the older checkpoint for several timeouts: the peers that
    // kept it have dropped it (restarted from the newer snapshot, say). Fetch the newer
    // one. A transfer that makes progress keeps its target (see the top of this file),
    // and a faulty peer cannot stop the correct ones' chunks from counting as progress.
    fetch_.reset();
    return maybe_start_state_transfer();
  }
  bool changed = false;
  for (auto& peer : fetch_->peers) {
    if (peer.requested.empty() || now_ < peer.deadline) continue;
    give_up_on(peer);
    peer.resting_until = now_ + options_.state_fetch_timeout;
    changed = true;
  }
  bool resting_over = false;
  for (const auto& peer : fetch_->peers)
    resting_over = resting_over || (peer.resting_until != 0 && peer.resting_until <= now_);
  if (changed || resting_over) request_chunks();
}

Instant Replica::Core::fetch_deadline() const {
  Instant deadline = ~Instant{0};
  for (const auto& peer : fetch_->peers) {
    if (!peer.requested.empty()) deadline = std::min(deadline, peer.deadline);
    if (peer.resting_until > now_) deadline = std::min(deadline, peer.resting_until);
  }
  return deadline;
}

void Replica::Core::on_fetch_state(const Message& message) {
  const auto& request = std::get<wire::FetchState>(message.body);
  ServedState current{stable_.seq, stable_.state, std::nullopt};
  ServedState* served = nullptr;
  std::optional<core::MerkleTree>* tree = nullptr;
  if (request.seq() == stable_.seq && stable_.state) {
    served = &current;
    tree = &stable_tree_;
  } else if (previous_ && request.seq() == previous_->seq && previous_->state) {
    served = &*previous_;
    tree = &previous_->tree;
  }
  if (served == nullptr) {
    // We moved on (or never had it): our newer certificate lets the peer retarget.
    if (request.seq() < stable_.seq && !stable_.proof.empty()) {
      wire::CheckpointCertificate certificate;
      for (const auto& envelope : stable_.proof) *certificate.add_checkpoints() = *envelope;
      send(sign(wire::CHECKPOINT_CERTIFICATE, encode(certificate)), message.sender);
    }
    return;
  }
  const Bytes& state = *served->state;
  std::uint64_t count = core::chunk_count(state.size(), options_.state_chunk_bytes);
  if (request.chunk_index() >= count) return drop("state chunk index out of range");
  if (!*tree) tree->emplace(state, options_.state_chunk_bytes);

  wire::StateChunk chunk;
  chunk.set_seq(served->seq);
  chunk.set_chunk_index(request.chunk_index());
  chunk.set_data(Bytes(core::chunk_of(state, request.chunk_index(), options_.state_chunk_bytes)));
  for (const auto& sibling : (*tree)->path(request.chunk_index()))
    chunk.add_merkle_path(sibling.bytes());
  send(sign(wire::STATE_CHUNK, encode(chunk)), message.sender);
}

void Replica::Core::on_state_chunk(const Message& message) {
  const auto& chunk = std::get<wire::StateChunk>(message.body);
  std::uint64_t index = chunk.chunk_index();
  if (!fetch_ || chunk.seq() != fetch_->seq || index >= fetch_->chunk_count || fetch_->have[index])
    return drop("state chunk not asked for");
  StateFetch& fetch = *fetch_;
  auto sender = std::find_if(fetch.peers.begin(), fetch.peers.end(),
                             [&](const FetchPeer& peer) { return peer.id == message.sender; });
  if (sender == fetch.peers.end()) return drop("state chunk from a peer not asked");
  std::vector<crypto::Digest> path;
  for (const auto& sibling : chunk.merkle_path())
    path.push_back(*crypto::Digest::from_bytes(sibling));
  ByteView expected = core::chunk_of(ByteView(fetch.received), index, options_.state_chunk_bytes);
  if (chunk.data().size() != expected.size() ||
      !core::merkle_verify(fetch.digest, fetch.state_size, index, fetch.chunk_count, chunk.data(),
                           path)) {
    // A lying (or corrupted) peer: this chunk is worthless, and so is the peer for the
    // rest of this transfer. Its chunks go to the others.
    drop("state chunk fails its Merkle proof");
    sender->lied = true;
    give_up_on(*sender);
    return request_chunks();
  }
  std::memcpy(fetch.received.data() + index * options_.state_chunk_bytes, chunk.data().data(),
              chunk.data().size());
  fetch.have[index] = true;
  ++fetch.have_count;
  if (fetch.asked_of[index] >= 0) {
    // Whoever it was asked of (it may have been given to another since).
    FetchPeer& asked = fetch.peers[static_cast<std::size_t>(fetch.asked_of[index])];
    asked.requested.erase(index);
    fetch.asked_of[index] = -1;
  }
  sender->deadline = now_ + options_.state_fetch_timeout;  // it answers: its full time again
  fetch.progress_at = now_;
  while (fetch.first_missing < fetch.chunk_count && fetch.have[fetch.first_missing])
    ++fetch.first_missing;
  if (fetch.have_count == fetch.chunk_count) return finish_state_transfer();
  request_chunks();
}

void Replica::Core::finish_state_transfer() {
  PHALANX_ASSERT(fetch_->received.size() == fetch_->state_size, "state transfer size mismatch");
  auto state = std::make_shared<const Bytes>(std::move(fetch_->received));
  // Every byte matched the root that 2f+1 replicas signed: a state that does not restore
  // means correct replicas produce unrestorable snapshots, a bug worth stopping for.
  std::string problem;
  PHALANX_ASSERT(restore_checkpoint_state(*state, problem),
                 ("certified checkpoint state: " + problem).c_str());

  Seq seq = fetch_->seq;
  std::uint64_t bytes = fetch_->state_size;
  fetch_.reset();
  last_executed_ = seq;
  next_seq_ = std::max(next_seq_, seq);
  if (stable_.seq == seq) {
    stable_.state = state;
    request_snapshot();  // the log below is gone from memory; the state must be durable
  } else if (previous_ && previous_->seq == seq) {
    previous_->state = state;  // the cluster moved on meanwhile; the log takes us there
  }
  own_checkpoints_.clear();
  for (auto it = pending_.begin(); it != pending_.end();) {
    const auto* entry = clients_.find(it->first);
    bool executed = entry && it->second.request_id <= entry->last_request_id;
    it = executed ? erase_pending(it) : std::next(it);
  }
  // A transfer that landed below the stable checkpoint gives the log its grace again.
  if (stable_.seq > last_executed_) behind_since_ = now_;
  event(Event::Type::kStateTransferDone, seq);
  out_.events.back().bytes = bytes;
  execute_ready();  // the log above the checkpoint may be ready already
}

}  // namespace phalanx::pbft
