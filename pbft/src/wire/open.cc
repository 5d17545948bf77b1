// Opening received envelopes: steps 1-4 of the contract in wire.h (size, envelope decode
// and kind, sender, signature). The payload's own checks are in validate.cc.
#include <climits>

#include "phalanx/base/assert.h"
#include "phalanx/pbft/wire.h"
#include "validate.h"

namespace phalanx::pbft {

namespace wire_detail {
namespace {

// A replica accepts every kind but REPLY; a client accepts only REPLY.
bool accepts(Audience audience, wire::Kind kind) {
  return (kind == wire::REPLY) == (audience == Audience::kClient);
}

// Step 3 for a REQUEST: the client key is the sender's identity.
Failure check_client_sender(const wire::Envelope& envelope, Message& message) {
  if (envelope.client_key().empty()) return Rejection::kMissingClientKey;
  auto key = crypto::PublicKey::from_bytes(envelope.client_key());
  if (!key) return Rejection::kBadClientKey;
  if (envelope.sender() != 0) return Rejection::kSenderOnClientMessage;
  message.sender = 0;
  message.client = *key;
  return std::nullopt;
}

// Step 3 for every other kind: a replica id below n, and no client key.
Failure check_replica_sender(const wire::Envelope& envelope, const Verifier& verifier,
                             Message& message) {
  if (!envelope.client_key().empty()) return Rejection::kClientKeyOnReplicaMessage;
  if (envelope.sender() >= verifier.replica_keys.size()) return Rejection::kUnknownSender;
  message.sender = envelope.sender();
  return std::nullopt;
}

// Step 4: the signature covers the exact payload bytes, in this cluster and kind's domain.
Failure check_signature(const wire::Envelope& envelope, const crypto::PublicKey& key,
                        const Verifier& verifier) {
  auto signature = crypto::Signature::from_bytes(envelope.signature());
  if (!signature) return Rejection::kBadSignatureLength;
  crypto::Digest digest = signing_digest(verifier.cluster_id, envelope.kind(), envelope.payload());
  bool valid = verifier.cache ? verifier.cache->verify(key, digest, *signature)
                              : crypto::verify_digest(key, digest, *signature);
  if (!valid) return Rejection::kBadSignature;
  return std::nullopt;
}

// Step 4 for a MAC client: the authenticator's shape. Which entries match is checked at
// the top level only (check_macs), because a nested request is vouched for by its
// certificate and a replica can check nothing but its own entry anyway.
Failure check_authenticator_shape(const wire::Envelope& envelope, const Verifier& verifier,
                                  Audience audience) {
  if (!envelope.signature().empty()) return Rejection::kBadAuthenticator;
  if (envelope.kind() == wire::REQUEST && audience == Audience::kReplica) {
    if (!verifier.replica_macs) return Rejection::kBadAuthenticator;
    if (envelope.authenticator().size() != authenticator_size(verifier.replica_keys.size()))
      return Rejection::kBadAuthenticator;
    return std::nullopt;
  }
  if (envelope.kind() == wire::REPLY && audience == Audience::kClient) {
    if (!verifier.client_macs || envelope.authenticator().size() != crypto::kMacSize)
      return Rejection::kBadAuthenticator;
    return std::nullopt;
  }
  return Rejection::kBadAuthenticator;
}

bool entry_matches(const wire::Envelope& request, const crypto::PublicKey& client,
                   const Verifier& verifier) {
  return verifier.replica_macs->entry_matches(client, signing_digest(verifier.cluster_id, wire::REQUEST, request.payload()),
                                              request.authenticator(),
                                              verifier.replica_keys.size());
}

}  // namespace

// Step 7 (wire.h): the MACs a top-level message carries for this receiver.
Failure check_macs(const wire::Envelope& envelope, const Verifier& verifier, Message& message) {
  if (envelope.kind() == wire::REPLY && !envelope.authenticator().empty()) {
    crypto::Digest digest = signing_digest(verifier.cluster_id, wire::REPLY, envelope.payload());
    if (!verifier.client_macs->reply_matches(message.sender, digest, envelope.authenticator()))
      return Rejection::kBadMac;
    return std::nullopt;
  }
  if (envelope.kind() == wire::REQUEST && !envelope.authenticator().empty()) {
    if (!entry_matches(envelope, message.client, verifier)) return Rejection::kBadMac;
    return std::nullopt;
  }
  if (envelope.kind() == wire::PRE_PREPARE)
    message.unvouched_requests =
        unvouched_requests(std::get<wire::PrePrepare>(message.body), verifier);
  return std::nullopt;
}

Failure check_envelope(const wire::Envelope& envelope, const Verifier& verifier, Audience audience,
                       Message& message) {
  if (has_unknown_fields(envelope)) return Rejection::kUnknownFields;
  if (kind_context(envelope.kind()).empty()) return Rejection::kUnknownKind;
  if (!accepts(audience, envelope.kind())) return Rejection::kUnexpectedKind;
  message.kind = envelope.kind();

  bool from_client = envelope.kind() == wire::REQUEST;
  Failure failure = from_client ? check_client_sender(envelope, message)
                                : check_replica_sender(envelope, verifier, message);
  if (failure) return failure;
  const crypto::PublicKey& key =
      from_client ? message.client : verifier.replica_keys[message.sender];
  failure = envelope.authenticator().empty()
                ? check_signature(envelope, key, verifier)
                : check_authenticator_shape(envelope, verifier, audience);
  if (failure) return failure;
  return decode_body(envelope, message.sender, verifier, message.body);
}

}  // namespace wire_detail

std::vector<std::uint32_t> unvouched_requests(const wire::PrePrepare& batch,
                                              const Verifier& verifier) {
  std::vector<std::uint32_t> unvouched;
  if (!verifier.replica_macs) return unvouched;
  for (int i = 0; i < batch.requests_size(); ++i) {
    const wire::Envelope& request = batch.requests(i);
    if (request.authenticator().empty()) continue;
    auto client = crypto::PublicKey::from_bytes(request.client_key());
    if (!client || !wire_detail::entry_matches(request, *client, verifier))
      unvouched.push_back(static_cast<std::uint32_t>(i));
  }
  return unvouched;
}

namespace {
Opened rejected(Rejection reason) {
  return Opened{std::nullopt, reason};
}
}  // namespace

Opened open_decoded(std::shared_ptr<const wire::Envelope> envelope, const Verifier& verifier,
                    Audience audience) {
  PHALANX_ASSERT(envelope != nullptr, "open_decoded needs an envelope");
  Message message;
  if (auto failure = wire_detail::check_envelope(*envelope, verifier, audience, message)) {
    return rejected(*failure);
  }
  if (auto failure = wire_detail::check_macs(*envelope, verifier, message)) {
    return rejected(*failure);
  }
  message.envelope = std::move(envelope);
  return Opened{std::move(message), Rejection::kCount};
}

Opened open_envelope(ByteView bytes, const Verifier& verifier, Audience audience) {
  if (bytes.empty()) return rejected(Rejection::kEmpty);
  // INT_MAX: protobuf parses at most that many bytes at once, whatever the configured limit.
  if (bytes.size() > verifier.limits.envelope_bytes_max || bytes.size() > INT_MAX) {
    return rejected(Rejection::kOversized);
  }
  auto envelope = std::make_shared<wire::Envelope>();
  if (!envelope->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return rejected(Rejection::kMalformedEnvelope);
  }
  return open_decoded(std::move(envelope), verifier, audience);
}

std::string_view to_string(Rejection reason) {
  switch (reason) {
    case Rejection::kEmpty:
      return "empty";
    case Rejection::kOversized:
      return "oversized";
    case Rejection::kMalformedEnvelope:
      return "malformed_envelope";
    case Rejection::kUnknownFields:
      return "unknown_fields";
    case Rejection::kUnknownKind:
      return "unknown_kind";
    case Rejection::kUnexpectedKind:
      return "unexpected_kind";
    case Rejection::kUnknownSender:
      return "unknown_sender";
    case Rejection::kMissingClientKey:
      return "missing_client_key";
    case Rejection::kBadClientKey:
      return "bad_client_key";
    case Rejection::kClientKeyOnReplicaMessage:
      return "client_key_on_replica_message";
    case Rejection::kSenderOnClientMessage:
      return "sender_on_client_message";
    case Rejection::kBadSignatureLength:
      return "bad_signature_length";
    case Rejection::kBadSignature:
      return "bad_signature";
    case Rejection::kBadAuthenticator:
      return "bad_authenticator";
    case Rejection::kBadMac:
      return "bad_mac";
    case Rejection::kMalformedPayload:
      return "malformed_payload";
    case Rejection::kClientKeyMismatch:
      return "client_key_mismatch";
    case Rejection::kZeroRequestId:
      return "zero_request_id";
    case Rejection::kOperationTooLarge:
      return "operation_too_large";
    case Rejection::kResultTooLarge:
      return "result_too_large";
    case Rejection::kBadDigestLength:
      return "bad_digest_length";
    case Rejection::kViewOutOfRange:
      return "view_out_of_range";
    case Rejection::kSeqOutOfRange:
      return "seq_out_of_range";
    case Rejection::kSenderNotPrimary:
      return "sender_not_primary";
    case Rejection::kBatchTooLarge:
      return "batch_too_large";
    case Rejection::kBatchDigestMismatch:
      return "batch_digest_mismatch";
    case Rejection::kDuplicateRequestInBatch:
      return "duplicate_request_in_batch";
    case Rejection::kBadNestedRequest:
      return "bad_nested_request";
    case Rejection::kBadCertificate:
      return "bad_certificate";
    case Rejection::kChunkTooLarge:
      return "chunk_too_large";
    case Rejection::kCount:
      return "none";
  }
  return "invalid";
}

}  // namespace phalanx::pbft
