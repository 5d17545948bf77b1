#pragma once
// The edge of the protocol: bytes in, a verified Message or a typed Rejection out; and
// sealing outgoing messages into signed envelopes.
//
// open_envelope() checks, in this order, and stops at the first failure:
//   1. size limit (before any decoding),
//   2. envelope decode and its kind,
//   3. known sender (replica id < n, or a well-formed client key for REQUEST),
//   4. signature (over the exact payload bytes, with the kind's domain), or for a MAC
//      client's REQUEST or REPLY the authenticator's shape (authenticators.h),
//   5. payload decode,
//   6. field validation: bounds, digest lengths, counts within limits, and every nested
//      envelope (requests in a batch, certificates in a view change) verified the same
//      way, including the certificate's shape (2f+1 distinct signers, matching digests).
// Everything here is stateless: checks that need the replica's state (current view,
// watermarks, what it has already accepted) are the core's.
//   7. at the top level only, MACs: a REQUEST's entry for this replica must match; a
//      PRE-PREPARE's requests whose entry does not are listed in unvouched_requests; a
//      REPLY's MAC must match. (Nested requests are vouched for by their certificate.)
// Outside tests, a Message is produced only by open_envelope()/open_decoded(), so code
// that holds one may trust every signature in it. (A replica's own messages never come
// back to it as Messages; the core keeps their envelopes directly.)
//
// Thread-safety: pure functions of their arguments; Verifier is immutable. Safe to call
// from worker threads.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "phalanx.pb.h"
#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/crypto/verify_cache.h"
#include "phalanx/pbft/authenticators.h"
#include "phalanx/pbft/limits.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

// Why received bytes were dropped. Each reason is counted and logged by the driver.
enum class Rejection {
  kEmpty,
  kOversized,
  kMalformedEnvelope,  // not a protobuf Envelope
  kUnknownFields,      // envelope or payload carries fields this version does not know
  kUnknownKind,
  kUnexpectedKind,    // a kind this audience never accepts (REPLY at a replica, ...)
  kUnknownSender,     // replica id >= n
  kMissingClientKey,  // REQUEST without a client key
  kBadClientKey,      // client key of the wrong length
  kClientKeyOnReplicaMessage,
  kSenderOnClientMessage,  // REQUEST with a nonzero replica sender
  kBadSignatureLength,
  kBadSignature,
  // An authenticator of the wrong size, on a kind that takes a signature, beside a
  // signature, or from a MAC client where this receiver accepts none.
  kBadAuthenticator,
  kBadMac,  // this replica's entry of a request's authenticator, or a reply's MAC, is wrong
  kMalformedPayload,   // payload does not decode as its kind
  kClientKeyMismatch,  // request body names another client than the envelope
  kZeroRequestId,
  kOperationTooLarge,
  kResultTooLarge,
  kBadDigestLength,
  kViewOutOfRange,
  kSeqOutOfRange,
  kSenderNotPrimary,  // a PRE-PREPARE or NEW-VIEW not from the primary of its view
  kBatchTooLarge,
  kBatchDigestMismatch,
  kDuplicateRequestInBatch,
  kBadNestedRequest,  // a request inside a batch fails its own checks
  kBadCertificate,    // a nested certificate is malformed, forged or mismatched
  kChunkTooLarge,
  kCount,  // not a reason: the number of reasons
};
std::string_view to_string(Rejection reason);

// Who is receiving: replicas and clients accept different kinds.
enum class Audience { kReplica, kClient };

// The cluster's identity as the edge needs it: who may sign what, and where.
struct Verifier {
  std::string cluster_id;
  std::vector<crypto::PublicKey> replica_keys;  // index = replica id; size = n
  WireLimits limits;
  // Optional: remembers valid signatures so each is checked once (shared by everything that
  // opens envelopes in this process; thread-safe).
  std::shared_ptr<crypto::VerifyCache> cache;
  // Set at a replica that accepts MAC clients: its own keys with them (authenticators.h).
  // One per replica, so a Verifier with it belongs to that replica alone.
  std::shared_ptr<const ReplicaMacs> replica_macs;
  // Set at a MAC client: its keys with the replicas, to check replies (and seal requests).
  std::shared_ptr<const ClientMacs> client_macs;

  Quorums quorums() const { return Quorums{static_cast<std::uint32_t>(replica_keys.size())}; }
};

using Body = std::variant<wire::Request, wire::Reply, wire::PrePrepare, wire::Prepare, wire::Commit,
                          wire::Checkpoint, wire::ViewChange, wire::NewView, wire::Status,
                          wire::CommitCertificate, wire::CheckpointCertificate, wire::FetchState,
                          wire::StateChunk>;

// A verified message. `envelope` is the exact received envelope, kept so that the message
// can be relayed or put into a certificate without re-encoding (which would break the
// signature, protobuf encoding not being canonical).
struct Message {
  wire::Kind kind = wire::KIND_UNSPECIFIED;
  ReplicaId sender = 0;      // for replica messages
  crypto::PublicKey client;  // for REQUEST
  std::shared_ptr<const wire::Envelope> envelope;
  Body body;
  // For a PRE-PREPARE at a replica that accepts MAC clients: the positions of the batch's
  // MAC-authenticated requests whose entry for this replica is wrong. This replica cannot
  // vouch for them, so it must not PREPARE the batch (authenticators.h).
  std::vector<std::uint32_t> unvouched_requests;
};

struct Opened {
  std::optional<Message> message;           // set when accepted
  Rejection rejection = Rejection::kCount;  // set when not
  bool ok() const { return message.has_value(); }
};

Opened open_envelope(ByteView bytes, const Verifier& verifier, Audience audience);

// Verifies an envelope already decoded (a nested one); same checks from step 3 on.
Opened open_decoded(std::shared_ptr<const wire::Envelope> envelope, const Verifier& verifier,
                    Audience audience);

// The positions of `batch`'s MAC-authenticated requests whose entry for this replica
// (verifier.replica_macs) does not match: those it cannot vouch for, and so must not
// PREPARE (authenticators.h). Empty without replica_macs. open_envelope fills
// Message::unvouched_requests with it; recovery asks again before resuming a PREPARE.
std::vector<std::uint32_t> unvouched_requests(const wire::PrePrepare& batch,
                                              const Verifier& verifier);

// The domain context string of each kind ("pre-prepare", ...).
std::string_view kind_context(wire::Kind kind);
// The domain a message of `kind` is signed or MAC'd in: its cluster and its kind, so that
// nothing signed for one cluster or kind passes for another.
crypto::Domain signing_domain(std::string_view cluster_id, wire::Kind kind);
// The digest a signature or MAC on a message of `kind` covers.
crypto::Digest signing_digest(std::string_view cluster_id, wire::Kind kind, ByteView payload);

// Signs `payload` as a message of `kind` from replica `sender`.
wire::Envelope seal(const crypto::Signer& signer, std::string_view cluster_id, wire::Kind kind,
                    ReplicaId sender, Bytes payload);
// Signs a client request; the envelope carries the client's public key.
wire::Envelope seal_request(const crypto::Signer& client, std::string_view cluster_id,
                            const wire::Request& request);
// A MAC client's request: an authenticator in place of the signature.
wire::Envelope seal_request(const ClientMacs& macs, std::string_view cluster_id,
                            const wire::Request& request);
// A reply from replica `sender` to `client`. With `macs` (the client authenticated its
// request with MACs) it carries one MAC in place of the signature: a hash where a
// signature costs ~25 us. Signed otherwise, and for a client key with no curve point
// (no MAC-authenticated request of such a client can have opened).
wire::Envelope seal_reply(const crypto::Signer& signer, const ReplicaMacs* macs,
                          std::string_view cluster_id, ReplicaId sender,
                          const crypto::PublicKey& client, Bytes payload);

// The digest that identifies a batch of requests (PrePrepare.digest): BLAKE2b over the
// batch time and the digests of the requests' payloads, in order, so that prepares and
// commits agree on the time too. The null batch (no requests, time 0) has the digest of
// the empty sequence.
crypto::Digest batch_digest(UnixMillis time,
                            const google::protobuf::RepeatedPtrField<wire::Envelope>& requests);
crypto::Digest batch_digest(const wire::PrePrepare& batch);  // of its time and requests

// The (view, seq) a PRE-PREPARE, PREPARE, COMMIT or COMMIT-CERTIFICATE is about; nullopt
// for other kinds and for payloads that do not decode (a Byzantine sender's).
struct MessageSlot {
  View view = 0;
  Seq seq = 0;
};
std::optional<MessageSlot> slot_of(const wire::Envelope& envelope);

// A message body, decoded: helper for code that builds payloads.
template <typename Proto>
Bytes encode(const Proto& message) {
  Bytes out;
  message.SerializeToString(&out);
  return out;
}

}  // namespace phalanx::pbft
