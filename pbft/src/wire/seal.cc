// Sealing outgoing messages and the batch digest: what every signer needs.
#include "phalanx/base/assert.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft {

std::string_view kind_context(wire::Kind kind) {
  switch (kind) {
    case wire::REQUEST:
      return "request";
    case wire::REPLY:
      return "reply";
    case wire::PRE_PREPARE:
      return "pre-prepare";
    case wire::PREPARE:
      return "prepare";
    case wire::COMMIT:
      return "commit";
    case wire::CHECKPOINT:
      return "checkpoint";
    case wire::VIEW_CHANGE:
      return "view-change";
    case wire::NEW_VIEW:
      return "new-view";
    case wire::STATUS:
      return "status";
    case wire::COMMIT_CERTIFICATE:
      return "commit-certificate";
    case wire::CHECKPOINT_CERTIFICATE:
      return "checkpoint-certificate";
    case wire::FETCH_STATE:
      return "fetch-state";
    case wire::STATE_CHUNK:
      return "state-chunk";
    default:
      return "";
  }
}

crypto::Domain signing_domain(std::string_view cluster_id, wire::Kind kind) {
  return crypto::Domain{cluster_id, kind_context(kind)};
}

crypto::Digest signing_digest(std::string_view cluster_id, wire::Kind kind, ByteView payload) {
  return crypto::signing_digest(signing_domain(cluster_id, kind), payload);
}

wire::Envelope seal(const crypto::Signer& signer, std::string_view cluster_id, wire::Kind kind,
                    ReplicaId sender, Bytes payload) {
  PHALANX_ASSERT(kind != wire::REQUEST, "client requests are sealed with seal_request");
  PHALANX_ASSERT(!kind_context(kind).empty(), "sealing an unknown kind");
  crypto::Signature signature = signer.sign(signing_domain(cluster_id, kind), payload);
  wire::Envelope envelope;
  envelope.set_kind(kind);
  envelope.set_sender(sender);
  envelope.set_payload(std::move(payload));
  envelope.set_signature(signature.bytes());
  return envelope;
}

wire::Envelope seal_request(const crypto::Signer& client, std::string_view cluster_id,
                            const wire::Request& request) {
  PHALANX_ASSERT(request.client_key() == client.public_key().view(),
                 "a request must name the key that signs it");
  Bytes payload = encode(request);
  crypto::Signature signature = client.sign(signing_domain(cluster_id, wire::REQUEST), payload);
  wire::Envelope envelope;
  envelope.set_kind(wire::REQUEST);
  envelope.set_client_key(client.public_key().bytes());
  envelope.set_payload(std::move(payload));
  envelope.set_signature(signature.bytes());
  return envelope;
}

wire::Envelope seal_request(const ClientMacs& macs, std::string_view cluster_id,
                            const wire::Request& request) {
  Bytes payload = encode(request);
  crypto::Digest digest = signing_digest(cluster_id, wire::REQUEST, payload);
  wire::Envelope envelope;
  envelope.set_kind(wire::REQUEST);
  envelope.set_client_key(request.client_key());
  envelope.set_payload(std::move(payload));
  envelope.set_authenticator(macs.authenticator(digest));
  return envelope;
}

wire::Envelope seal_reply(const crypto::Signer& signer, const ReplicaMacs* macs,
                          std::string_view cluster_id, ReplicaId sender,
                          const crypto::PublicKey& client, Bytes payload) {
  PHALANX_ASSERT(!macs || macs->self() == sender, "a reply MAC'd with another replica's keys");
  std::optional<crypto::Mac> mac;
  if (macs) mac = macs->reply_mac(client, signing_digest(cluster_id, wire::REPLY, payload));
  if (!mac) return seal(signer, cluster_id, wire::REPLY, sender, std::move(payload));
  wire::Envelope envelope;
  envelope.set_kind(wire::REPLY);
  envelope.set_sender(sender);
  envelope.set_payload(std::move(payload));
  envelope.set_authenticator(Bytes(as_bytes(*mac)));
  return envelope;
}

crypto::Digest batch_digest(UnixMillis time,
                            const google::protobuf::RepeatedPtrField<wire::Envelope>& requests) {
  crypto::Hasher hasher;
  hasher.update_field("batch").update_u64(time).update_u64(
      static_cast<std::uint64_t>(requests.size()));
  for (const auto& request : requests) hasher.update(crypto::blake2b(request.payload()).view());
  return hasher.finish();
}

crypto::Digest batch_digest(const wire::PrePrepare& batch) {
  return batch_digest(batch.batch_time(), batch.requests());
}

}  // namespace phalanx::pbft
