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
#include <algorithm>
#include <cstring>

#include "core/replica_core.h"
#include "phalanx/base/byte_io.h"

namespace phalanx::pbft {

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
  for (const auto& envelope : stable_.proof)
    if (envelope->sender() != id_) fetch.peers.push_back(envelope->sender());
  PHALANX_ASSERT(!fetch.peers.empty(), "a stable checkpoint above ours has other signers");
  fetch.peer_index = id_ % fetch.peers.size();  // spread fetchers over peers
  fetch.received.resize(fetch.state_size);
  fetch.have.assign(fetch.chunk_count, false);
  fetch_ = std::move(fetch);
  event(Event::Type::kStateTransferStarted, stable_.seq,
        std::to_string(fetch_->chunk_count) + " chunks");
  request_chunks();
}

// Asks the current peer for missing chunks, up to state_chunks_in_flight outstanding.
void Replica::Core::request_chunks() {
  PHALANX_ASSERT(fetch_.has_value(), "requesting chunks with no transfer under way");
  StateFetch& fetch = *fetch_;
  for (std::uint64_t index = fetch.first_missing;
       index < fetch.chunk_count && fetch.requested.size() < options_.state_chunks_in_flight;
       ++index) {
    if (fetch.have[index] || fetch.requested.count(index)) continue;
    wire::FetchState request;
    request.set_seq(fetch.seq);
    request.set_chunk_index(static_cast<std::uint32_t>(index));
    send(sign(wire::FETCH_STATE, encode(request)), fetch.peers[fetch.peer_index]);
    fetch.requested.insert(index);
  }
  fetch.deadline = now_ + options_.state_fetch_timeout;
}

// The current peer is slow, silent or lying: what it was asked for goes to the next.
void Replica::Core::next_fetch_peer() {
  fetch_->peer_index = (fetch_->peer_index + 1) % fetch_->peers.size();
  fetch_->requested.clear();
  request_chunks();
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
  if (!fetch_ || chunk.seq() != fetch_->seq || index >= fetch_->chunk_count ||
      fetch_->have[index])
    return drop("state chunk not asked for");
  StateFetch& fetch = *fetch_;
  std::vector<crypto::Digest> path;
  for (const auto& sibling : chunk.merkle_path())
    path.push_back(*crypto::Digest::from_bytes(sibling));
  ByteView expected = core::chunk_of(ByteView(fetch.received), index, options_.state_chunk_bytes);
  if (chunk.data().size() != expected.size() ||
      !core::merkle_verify(fetch.digest, fetch.state_size, index, fetch.chunk_count, chunk.data(),
                           path)) {
    // A lying (or corrupted) peer: this chunk is worthless. If it is the peer we are
    // asking, ask someone else; a late lie from an earlier peer changes nothing.
    drop("state chunk fails its Merkle proof");
    if (message.sender == fetch.peers[fetch.peer_index]) next_fetch_peer();
    return;
  }
  std::memcpy(fetch.received.data() + index * options_.state_chunk_bytes, chunk.data().data(),
              chunk.data().size());
  fetch.have[index] = true;
  ++fetch.have_count;
  fetch.requested.erase(index);
  while (fetch.first_missing < fetch.chunk_count && fetch.have[fetch.first_missing])
    ++fetch.first_missing;
  if (fetch.have_count == fetch.chunk_count) return finish_state_transfer();
  request_chunks();  // the peer answered: it has its full time again for the next ones
}

void Replica::Core::finish_state_transfer() {
  PHALANX_ASSERT(fetch_->received.size() == fetch_->state_size, "state transfer size mismatch");
  auto state = std::make_shared<const Bytes>(std::move(fetch_->received));
  ByteReader reader(*state);
  auto snapshot = reader.large_field();
  auto table = reader.large_field();
  // Every byte matched the root that 2f+1 replicas signed: a state that does not parse
  // means correct replicas produce unparsable snapshots, a bug worth stopping for.
  PHALANX_ASSERT(snapshot && table && reader.done(), "certified checkpoint state malformed");
  PHALANX_ASSERT(app_.restore(*snapshot).ok(), "application cannot restore a certified snapshot");
  PHALANX_ASSERT(clients_.restore(*table).ok(), "certified client table malformed");

  Seq seq = fetch_->seq;
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
    it = executed ? pending_.erase(it) : std::next(it);
  }
  // A transfer that landed below the stable checkpoint gives the log its grace again.
  if (stable_.seq > last_executed_) behind_since_ = now_;
  event(Event::Type::kStateTransferDone, seq);
  execute_ready();  // the log above the checkpoint may be ready already
}

}  // namespace phalanx::pbft
