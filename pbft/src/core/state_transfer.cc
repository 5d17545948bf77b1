// State transfer (PBFT 5.3.2, simplified to one Merkle tree over the checkpoint state): a
// replica behind the cluster's stable checkpoint fetches that checkpoint's state chunk by
// chunk from the replicas that certified it, checking each chunk against the certified
// root, and moves to another peer when one is slow or lies.
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
  fetch.received.reserve(fetch.state_size);
  fetch_ = std::move(fetch);
  event(Event::Type::kStateTransferStarted, stable_.seq);
  request_next_chunk();
}

void Replica::Core::request_next_chunk() {
  PHALANX_ASSERT(fetch_.has_value(), "requesting a chunk with no transfer under way");
  wire::FetchState request;
  request.set_seq(fetch_->seq);
  request.set_chunk_index(static_cast<std::uint32_t>(fetch_->next_chunk));
  send(sign(wire::FETCH_STATE, encode(request)), fetch_->peers[fetch_->peer_index]);
  fetch_->deadline = now_ + options_.state_fetch_timeout;
}

void Replica::Core::on_fetch_state(const Message& message) {
  const auto& request = std::get<wire::FetchState>(message.body);
  if (request.seq() != stable_.seq || !stable_.state) {
    // We moved on (or never had it): our newer certificate lets the peer retarget.
    if (request.seq() < stable_.seq && !stable_.proof.empty()) {
      wire::CheckpointCertificate certificate;
      for (const auto& envelope : stable_.proof) *certificate.add_checkpoints() = *envelope;
      send(sign(wire::CHECKPOINT_CERTIFICATE, encode(certificate)), message.sender);
    }
    return;
  }
  std::uint64_t count = core::chunk_count(stable_.state->size(), options_.state_chunk_bytes);
  if (request.chunk_index() >= count) return drop("state chunk index out of range");
  if (!stable_tree_) stable_tree_.emplace(*stable_.state, options_.state_chunk_bytes);

  wire::StateChunk chunk;
  chunk.set_seq(stable_.seq);
  chunk.set_chunk_index(request.chunk_index());
  chunk.set_data(
      Bytes(core::chunk_of(*stable_.state, request.chunk_index(), options_.state_chunk_bytes)));
  for (const auto& sibling : stable_tree_->path(request.chunk_index()))
    chunk.add_merkle_path(sibling.bytes());
  send(sign(wire::STATE_CHUNK, encode(chunk)), message.sender);
}

void Replica::Core::on_state_chunk(const Message& message) {
  const auto& chunk = std::get<wire::StateChunk>(message.body);
  if (!fetch_ || chunk.seq() != fetch_->seq || chunk.chunk_index() != fetch_->next_chunk)
    return drop("state chunk not asked for");
  std::vector<crypto::Digest> path;
  for (const auto& sibling : chunk.merkle_path())
    path.push_back(*crypto::Digest::from_bytes(sibling));
  if (!core::merkle_verify(fetch_->digest, fetch_->state_size, chunk.chunk_index(),
                           fetch_->chunk_count, chunk.data(), path)) {
    // A lying (or corrupted) peer: this chunk is worthless, ask someone else.
    drop("state chunk fails its Merkle proof");
    fetch_->peer_index = (fetch_->peer_index + 1) % fetch_->peers.size();
    return request_next_chunk();
  }
  fetch_->received.append(chunk.data());
  if (++fetch_->next_chunk < fetch_->chunk_count) return request_next_chunk();
  finish_state_transfer();
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
  }
  own_checkpoints_.clear();
  for (auto it = pending_.begin(); it != pending_.end();) {
    const auto* entry = clients_.find(it->first);
    bool executed = entry && it->second.request_id <= entry->last_request_id;
    it = executed ? pending_.erase(it) : std::next(it);
  }
  event(Event::Type::kStateTransferDone, seq);
  execute_ready();  // the log above the checkpoint may be ready already
}

}  // namespace phalanx::pbft
