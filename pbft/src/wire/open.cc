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
  crypto::Domain domain{verifier.cluster_id, kind_context(envelope.kind())};
  crypto::Digest digest = crypto::signing_digest(domain, envelope.payload());
  bool valid = verifier.cache ? verifier.cache->verify(key, digest, *signature)
                              : crypto::verify_digest(key, digest, *signature);
  if (!valid) return Rejection::kBadSignature;
  return std::nullopt;
}

}  // namespace

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
  if ((failure = check_signature(envelope, key, verifier))) return failure;
  return decode_body(envelope, message.sender, verifier, message.body);
}

}  // namespace wire_detail

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
