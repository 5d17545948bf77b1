// The protocol's edge (pbft/wire.h): every kind of valid message opens; everything else is
// rejected with its own reason, in the documented order, and no input crashes it.
// The cluster: n = 4 (f = 1), cluster id "test", keys derive_for_testing("replica", i).
#include "phalanx/pbft/wire.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace phalanx::pbft {

// gtest prints reasons by name.
void PrintTo(Rejection reason, std::ostream* out) {
  *out << to_string(reason);
}

namespace {

constexpr std::string_view kClusterId = "test";
constexpr ReplicaId kN = 4;
const Bytes kState(crypto::Digest::kSize, 's');  // a checkpoint's state digest

// Builds real, correctly signed messages of every kind; tests then break one thing.
class Cluster {
 public:
  Cluster() {
    verifier_.cluster_id = kClusterId;
    for (ReplicaId id = 0; id < kN; ++id) {
      replicas_.emplace_back(crypto::SecretKey::derive_for_testing("replica", id));
      verifier_.replica_keys.push_back(replicas_.back().public_key());
    }
    for (int client = 0; client < 2; ++client) {
      clients_.emplace_back(crypto::SecretKey::derive_for_testing("client", client));
    }
  }

  const Verifier& verifier() const { return verifier_; }
  Quorums quorums() const { return verifier_.quorums(); }
  ReplicaId primary(View view) const { return quorums().primary(view); }
  ReplicaId backup(View view, std::uint32_t index) const {
    return (primary(view) + 1 + index) % kN;
  }
  const crypto::Signer& replica(ReplicaId id) const { return replicas_.at(id); }
  Bytes client_key(int client) const { return clients_.at(client).public_key().bytes(); }

  template <typename Proto>
  wire::Envelope sign(ReplicaId sender, wire::Kind kind, const Proto& body) const {
    return seal(replicas_.at(sender), kClusterId, kind, sender, encode(body));
  }

  // Signed by `client`, whatever key the body names (seal_request would refuse a mismatch).
  wire::Envelope sign_request(int client, const wire::Request& body) const {
    wire::Envelope envelope;
    envelope.set_kind(wire::REQUEST);
    envelope.set_client_key(client_key(client));
    envelope.set_payload(encode(body));
    envelope.set_signature(clients_.at(client)
                               .sign(crypto::Domain{kClusterId, "request"}, envelope.payload())
                               .bytes());
    return envelope;
  }

  wire::Request request_body(int client, RequestId id) const {
    wire::Request body;
    body.set_client_key(client_key(client));
    body.set_request_id(id);
    body.set_operation("put x " + std::to_string(id));
    return body;
  }
  wire::Envelope request(int client, RequestId id) const {
    return sign_request(client, request_body(client, id));
  }

  wire::PrePrepare pre_prepare_body(View view, Seq seq,
                                    const std::vector<wire::Envelope>& requests = {}) const {
    wire::PrePrepare body;
    body.set_view(view);
    body.set_seq(seq);
    for (const auto& request : requests) *body.add_requests() = request;
    body.set_digest(batch_digest(body).bytes());
    return body;
  }
  wire::Envelope pre_prepare(const wire::PrePrepare& body) const {
    return sign(primary(body.view()), wire::PRE_PREPARE, body);
  }

  template <typename Vote>
  static Vote vote(View view, Seq seq, const Bytes& digest) {
    Vote body;
    body.set_view(view);
    body.set_seq(seq);
    body.set_digest(digest);
    return body;
  }
  wire::Envelope prepare(ReplicaId sender, const wire::PrePrepare& pre_prepare) const {
    return sign(sender, wire::PREPARE,
                vote<wire::Prepare>(pre_prepare.view(), pre_prepare.seq(), pre_prepare.digest()));
  }
  wire::Envelope commit(ReplicaId sender, const wire::PrePrepare& pre_prepare) const {
    return sign(sender, wire::COMMIT,
                vote<wire::Commit>(pre_prepare.view(), pre_prepare.seq(), pre_prepare.digest()));
  }

  static wire::Checkpoint checkpoint_body(Seq seq, const Bytes& state = kState) {
    wire::Checkpoint body;
    body.set_seq(seq);
    body.set_state_digest(state);
    body.set_state_size(4096);
    return body;
  }
  wire::Envelope checkpoint(ReplicaId sender, Seq seq) const {
    return sign(sender, wire::CHECKPOINT, checkpoint_body(seq));
  }

  // A pre-prepare with one request and the prepares of 2f backups.
  wire::PreparedCertificate prepared(View view, Seq seq) const {
    wire::PrePrepare body = pre_prepare_body(view, seq, {request(0, seq)});
    wire::PreparedCertificate certificate;
    *certificate.mutable_pre_prepare() = pre_prepare(body);
    for (std::uint32_t i = 0; i < 2 * quorums().f(); ++i) {
      *certificate.add_prepares() = prepare(backup(view, i), body);
    }
    return certificate;
  }

  // A view change to `new_view` from stable checkpoint `stable_seq` (proved by replicas
  // 0..2f), with certificates prepared in earlier views at the next two seqs.
  wire::ViewChange view_change_body(View new_view, Seq stable_seq) const {
    wire::ViewChange body;
    body.set_new_view(new_view);
    body.set_stable_seq(stable_seq);
    for (ReplicaId id = 0; stable_seq > 0 && id < quorums().quorum(); ++id) {
      *body.add_checkpoint_proof() = checkpoint(id, stable_seq);
    }
    *body.add_prepared() = prepared(new_view - 1, stable_seq + 1);
    *body.add_prepared() = prepared(0, stable_seq + 2);
    return body;
  }

  // A new view with 2f+1 view changes and a re-proposal for each prepared seq.
  wire::NewView new_view_body(View view, Seq stable_seq) const {
    wire::NewView body;
    body.set_view(view);
    for (ReplicaId id = 0; id < quorums().quorum(); ++id) {
      *body.add_view_changes() = sign(id, wire::VIEW_CHANGE, view_change_body(view, stable_seq));
    }
    *body.add_pre_prepares() = pre_prepare(pre_prepare_body(view, stable_seq + 1));
    *body.add_pre_prepares() = pre_prepare(pre_prepare_body(view, stable_seq + 2));
    return body;
  }

  wire::CommitCertificate commit_certificate(View view, Seq seq) const {
    wire::PrePrepare body = pre_prepare_body(view, seq, {request(1, 7)});
    wire::CommitCertificate certificate;
    *certificate.mutable_pre_prepare() = pre_prepare(body);
    for (ReplicaId id = 0; id < quorums().quorum(); ++id) {
      *certificate.add_commits() = commit(id, body);
    }
    return certificate;
  }

  wire::CheckpointCertificate checkpoint_certificate(Seq seq) const {
    wire::CheckpointCertificate certificate;
    for (ReplicaId id = 1; id <= quorums().quorum(); ++id) {
      *certificate.add_checkpoints() = checkpoint(id, seq);
    }
    return certificate;
  }

  wire::Reply reply_body() const {
    wire::Reply body;
    body.set_view(3);
    body.set_client_key(client_key(0));
    body.set_request_id(9);
    body.set_result("ok");
    return body;
  }

  static wire::StateChunk chunk_body() {
    wire::StateChunk body;
    body.set_seq(10);
    body.set_chunk_index(2);
    body.set_data("chunk data");
    body.add_merkle_path(Bytes(32, 'a'));
    body.add_merkle_path(Bytes(32, 'b'));
    return body;
  }

 private:
  Verifier verifier_;
  std::vector<crypto::Signer> replicas_;
  std::vector<crypto::Signer> clients_;
};

const Cluster& cluster() {
  static const Cluster instance;
  return instance;
}

Rejection rejection_of(ByteView bytes, Audience audience = Audience::kReplica,
                       const Verifier& verifier = cluster().verifier()) {
  Opened opened = open_envelope(bytes, verifier, audience);
  return opened.ok() ? Rejection::kCount : opened.rejection;
}

template <typename Edit>
Bytes edited(wire::Envelope envelope, Edit edit) {
  edit(envelope);
  return encode(envelope);
}

// Field 99, varint 1: a field no version of phalanx.proto defines.
const Bytes kUnknownField("\x98\x06\x01", 3);

// ---- every valid kind opens ---------------------------------------------------------------

struct Valid {
  std::string name;
  wire::Envelope envelope;
  Audience audience;
  std::size_t body_index;  // of Body's alternatives
};

std::vector<Valid> valid_messages() {
  const Cluster& c = cluster();
  wire::PrePrepare batch = c.pre_prepare_body(0, 1, {c.request(0, 1), c.request(1, 1)});
  wire::Status status;
  status.set_view(2);
  status.set_last_executed(12);
  status.set_stable_seq(10);
  wire::FetchState fetch;
  fetch.set_seq(10);
  fetch.set_chunk_index(3);
  auto replica = Audience::kReplica;
  return {
      {"request", c.request(0, 1), replica, 0},
      {"reply", c.sign(2, wire::REPLY, c.reply_body()), Audience::kClient, 1},
      {"pre_prepare", c.pre_prepare(batch), replica, 2},
      {"null_pre_prepare", c.pre_prepare(c.pre_prepare_body(5, 3)), replica, 2},
      {"prepare", c.prepare(1, batch), replica, 3},
      {"prepare_from_primary", c.prepare(0, batch), replica, 3},
      {"commit", c.commit(0, batch), replica, 4},
      {"checkpoint", c.checkpoint(3, 10), replica, 5},
      {"view_change", c.sign(1, wire::VIEW_CHANGE, c.view_change_body(2, 10)), replica, 6},
      {"view_change_from_start", c.sign(1, wire::VIEW_CHANGE, c.view_change_body(1, 0)), replica,
       6},
      {"new_view", c.sign(2, wire::NEW_VIEW, c.new_view_body(2, 10)), replica, 7},
      {"status", c.sign(3, wire::STATUS, status), replica, 8},
      {"commit_certificate", c.sign(1, wire::COMMIT_CERTIFICATE, c.commit_certificate(1, 4)),
       replica, 9},
      {"checkpoint_certificate",
       c.sign(0, wire::CHECKPOINT_CERTIFICATE, c.checkpoint_certificate(20)), replica, 10},
      {"fetch_state", c.sign(1, wire::FETCH_STATE, fetch), replica, 11},
      {"state_chunk", c.sign(2, wire::STATE_CHUNK, Cluster::chunk_body()), replica, 12},
  };
}

TEST(OpenEnvelope, OpensAValidMessageOfEveryKind) {
  std::set<wire::Kind> kinds;
  for (const Valid& valid : valid_messages()) {
    SCOPED_TRACE(valid.name);
    Bytes bytes = encode(valid.envelope);
    Opened opened = open_envelope(bytes, cluster().verifier(), valid.audience);
    ASSERT_TRUE(opened.ok()) << to_string(opened.rejection);
    const Message& message = *opened.message;
    EXPECT_EQ(message.kind, valid.envelope.kind());
    EXPECT_EQ(message.body.index(), valid.body_index);
    EXPECT_EQ(message.envelope->payload(), valid.envelope.payload());
    EXPECT_EQ(message.envelope->signature(), valid.envelope.signature());
    if (message.kind == wire::REQUEST) {
      EXPECT_EQ(message.client.bytes(), valid.envelope.client_key());
      EXPECT_EQ(message.sender, 0u);
    } else {
      EXPECT_EQ(message.sender, valid.envelope.sender());
    }
    kinds.insert(message.kind);
  }
  EXPECT_EQ(kinds.size(), 13u) << "a kind has no valid example";
}

TEST(OpenEnvelope, BodyIsTheDecodedPayload) {
  const Cluster& c = cluster();
  Opened opened = open_envelope(encode(c.request(1, 42)), c.verifier(), Audience::kReplica);
  ASSERT_TRUE(opened.ok());
  const auto& request = std::get<wire::Request>(opened.message->body);
  EXPECT_EQ(request.request_id(), 42u);
  EXPECT_EQ(request.client_key(), c.client_key(1));
  EXPECT_EQ(opened.message->client.bytes(), c.client_key(1));
}

TEST(OpenDecoded, KeepsTheGivenEnvelopeAndChecksLikeOpenEnvelope) {
  const Cluster& c = cluster();
  auto envelope = std::make_shared<const wire::Envelope>(c.checkpoint(2, 30));
  Opened opened = open_decoded(envelope, c.verifier(), Audience::kReplica);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened.message->envelope, envelope);  // the same object, not a copy
  EXPECT_EQ(opened.message->sender, 2u);

  auto forged = std::make_shared<wire::Envelope>(*envelope);
  forged->set_sender(1);
  EXPECT_EQ(open_decoded(forged, c.verifier(), Audience::kReplica).rejection,
            Rejection::kBadSignature);
  EXPECT_EQ(open_decoded(envelope, c.verifier(), Audience::kClient).rejection,
            Rejection::kUnexpectedKind);
}

// ---- signatures -------------------------------------------------------------------------------

TEST(Signature, AnyFlippedPayloadBitIsRejected) {
  wire::Envelope envelope = cluster().checkpoint(1, 10);
  for (std::size_t bit = 0; bit < envelope.payload().size() * 8; ++bit) {
    Bytes bytes = edited(envelope, [bit](wire::Envelope& e) {
      (*e.mutable_payload())[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    });
    EXPECT_EQ(rejection_of(bytes), Rejection::kBadSignature) << "bit " << bit;
  }
}

TEST(Signature, AnyFlippedSignatureBitIsRejected) {
  wire::Envelope envelope = cluster().checkpoint(1, 10);
  for (std::size_t bit = 0; bit < crypto::Signature::kSize * 8; ++bit) {
    Bytes bytes = edited(envelope, [bit](wire::Envelope& e) {
      (*e.mutable_signature())[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    });
    EXPECT_EQ(rejection_of(bytes), Rejection::kBadSignature) << "bit " << bit;
  }
}

TEST(Signature, AnotherSenderIdIsRejected) {
  wire::Envelope envelope = cluster().checkpoint(1, 10);
  for (ReplicaId sender : {0u, 2u, 3u}) {  // 1 with one bit flipped, and the last replica
    EXPECT_EQ(rejection_of(edited(envelope, [sender](wire::Envelope& e) { e.set_sender(sender); })),
              Rejection::kBadSignature);
  }
}

TEST(Signature, AnotherClientKeyIsRejected) {
  Bytes bytes =
      edited(cluster().request(0, 1), [](wire::Envelope& e) { (*e.mutable_client_key())[0] ^= 1; });
  EXPECT_EQ(rejection_of(bytes), Rejection::kBadSignature);
}

TEST(Signature, DoesNotCarryToAnotherCluster) {
  const Cluster& c = cluster();
  wire::Envelope envelope =
      seal(c.replica(1), "test2", wire::CHECKPOINT, 1, encode(Cluster::checkpoint_body(10)));
  EXPECT_EQ(rejection_of(encode(envelope)), Rejection::kBadSignature);
}

TEST(Signature, DoesNotCarryToAnotherKind) {
  // PREPARE and COMMIT have the same fields: only the domain tells them apart.
  const Cluster& c = cluster();
  wire::PrePrepare batch = c.pre_prepare_body(0, 1);
  Bytes as_commit =
      edited(c.prepare(1, batch), [](wire::Envelope& e) { e.set_kind(wire::COMMIT); });
  EXPECT_EQ(rejection_of(as_commit), Rejection::kBadSignature);
  Bytes as_prepare =
      edited(c.commit(1, batch), [](wire::Envelope& e) { e.set_kind(wire::PREPARE); });
  EXPECT_EQ(rejection_of(as_prepare), Rejection::kBadSignature);
}

// ---- hostile inputs, each with its own reason --------------------------------------------------

struct Hostile {
  const char* name;
  Rejection expected;
  std::function<Bytes(const Cluster&)> make;
  Audience audience = Audience::kReplica;
  bool mac_clients = false;  // opened by replica 0 accepting MAC clients (authenticators.h)
};

void PrintTo(const Hostile& hostile, std::ostream* out) {
  *out << hostile.name;
}

// Builders shared by several cases.
wire::Envelope view_change_with(const Cluster& c,
                                const std::function<void(wire::ViewChange&)>& edit) {
  wire::ViewChange body = c.view_change_body(2, 10);
  edit(body);
  return c.sign(1, wire::VIEW_CHANGE, body);
}

wire::Envelope new_view_with(const Cluster& c, const std::function<void(wire::NewView&)>& edit) {
  wire::NewView body = c.new_view_body(2, 10);
  edit(body);
  return c.sign(2, wire::NEW_VIEW, body);
}

wire::Envelope batch_of(const Cluster& c, const std::vector<wire::Envelope>& requests) {
  return c.pre_prepare(c.pre_prepare_body(0, 1, requests));
}

wire::Envelope prepare_for(const Cluster& c, View view, Seq seq, const Bytes& digest,
                           ReplicaId sender = 1) {
  return c.sign(sender, wire::PREPARE, Cluster::vote<wire::Prepare>(view, seq, digest));
}

const Bytes kDigest(32, 'd');

std::vector<Hostile> envelope_cases() {
  return {
      {"Empty", Rejection::kEmpty, [](const Cluster&) { return Bytes(); }},
      {"Oversized", Rejection::kOversized,
       [](const Cluster& c) { return Bytes(c.verifier().limits.envelope_bytes_max + 1, '\0'); }},
      {"TruncatedEnvelope", Rejection::kMalformedEnvelope,
       [](const Cluster& c) {
         Bytes bytes = encode(c.checkpoint(1, 10));
         return bytes.substr(0, bytes.size() - 5);
       }},
      {"GarbageProtobuf", Rejection::kMalformedEnvelope,
       [](const Cluster&) { return Bytes("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11); }},
      {"InvalidWireType", Rejection::kMalformedEnvelope,
       [](const Cluster&) { return Bytes("\x0f\x01", 2); }},
      {"UnknownEnvelopeField", Rejection::kUnknownFields,
       [](const Cluster& c) { return encode(c.checkpoint(1, 10)) + kUnknownField; }},
      {"UnknownPayloadField", Rejection::kUnknownFields,
       [](const Cluster& c) {
         return encode(seal(c.replica(1), kClusterId, wire::CHECKPOINT, 1,
                            encode(Cluster::checkpoint_body(10)) + kUnknownField));
       }},
      {"UnknownFieldInNestedEnvelope", Rejection::kUnknownFields,
       [](const Cluster& c) {
         return encode(view_change_with(c, [](wire::ViewChange& v) {
           wire::Envelope* nested = v.mutable_checkpoint_proof(0);
           nested->GetReflection()->MutableUnknownFields(nested)->AddVarint(99, 1);
         }));
       }},
      {"KindZero", Rejection::kUnknownKind,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10),
                       [](wire::Envelope& e) { e.set_kind(wire::KIND_UNSPECIFIED); });
       }},
      {"KindUndefined", Rejection::kUnknownKind,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10),
                       [](wire::Envelope& e) { e.set_kind(static_cast<wire::Kind>(99)); });
       }},
      {"ReplyAtReplica", Rejection::kUnexpectedKind,
       [](const Cluster& c) { return encode(c.sign(1, wire::REPLY, c.reply_body())); }},
      {"PrepareAtClient", Rejection::kUnexpectedKind,
       [](const Cluster& c) { return encode(c.prepare(1, c.pre_prepare_body(0, 1))); },
       Audience::kClient},
      {"RequestAtClient", Rejection::kUnexpectedKind,
       [](const Cluster& c) { return encode(c.request(0, 1)); }, Audience::kClient},
      {"UnknownSender", Rejection::kUnknownSender,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10), [](wire::Envelope& e) { e.set_sender(kN); });
       }},
      {"MaxSender", Rejection::kUnknownSender,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10), [](wire::Envelope& e) { e.set_sender(0xffffffff); });
       }},
      {"MissingClientKey", Rejection::kMissingClientKey,
       [](const Cluster& c) {
         return edited(c.request(0, 1), [](wire::Envelope& e) { e.clear_client_key(); });
       }},
      {"ShortClientKey", Rejection::kBadClientKey,
       [](const Cluster& c) {
         return edited(c.request(0, 1),
                       [](wire::Envelope& e) { e.mutable_client_key()->pop_back(); });
       }},
      {"ClientKeyOnReplicaMessage", Rejection::kClientKeyOnReplicaMessage,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10),
                       [&](wire::Envelope& e) { e.set_client_key(c.client_key(0)); });
       }},
      {"SenderOnRequest", Rejection::kSenderOnClientMessage,
       [](const Cluster& c) {
         return edited(c.request(0, 1), [](wire::Envelope& e) { e.set_sender(1); });
       }},
      {"ShortSignature", Rejection::kBadSignatureLength,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10),
                       [](wire::Envelope& e) { e.mutable_signature()->pop_back(); });
       }},
      {"NoSignature", Rejection::kBadSignatureLength,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10), [](wire::Envelope& e) { e.clear_signature(); });
       }},
      {"SignatureByAnotherReplica", Rejection::kBadSignature,
       [](const Cluster& c) {
         return edited(c.checkpoint(1, 10), [&](wire::Envelope& e) {
           e.set_signature(c.checkpoint(2, 10).signature());
         });
       }},
      {"MalformedPayload", Rejection::kMalformedPayload,
       [](const Cluster& c) {
         return encode(seal(c.replica(1), kClusterId, wire::CHECKPOINT, 1, Bytes("\x0a\x05xy", 4)));
       }},
  };
}

std::vector<Hostile> request_and_reply_cases() {
  auto reply = [](const std::function<void(wire::Reply&)>& edit) {
    return [edit](const Cluster& c) {
      wire::Reply body = c.reply_body();
      edit(body);
      return encode(c.sign(1, wire::REPLY, body));
    };
  };
  auto request = [](const std::function<void(wire::Request&)>& edit) {
    return [edit](const Cluster& c) {
      wire::Request body = c.request_body(0, 1);
      edit(body);
      return encode(c.sign_request(0, body));
    };
  };
  // A request with an authenticator of the right size (n = 4 MACs) and no signature.
  auto with_authenticator = [](const Cluster& c) {
    wire::Envelope envelope = c.request(0, 1);
    envelope.clear_signature();
    envelope.set_authenticator(Bytes(4 * crypto::kMacSize, 'm'));
    return encode(envelope);
  };
  const Cluster& c = cluster();
  Bytes other_client = c.client_key(1);
  std::size_t operation_max = c.verifier().limits.operation_bytes_max;
  std::size_t result_max = c.verifier().limits.result_bytes_max;
  auto client = Audience::kClient;
  return {
      {"MacRequestWhereMacClientsAreNotAccepted", Rejection::kBadAuthenticator, with_authenticator},
      {"MacRequestWhoseEntryForThisReplicaIsWrong", Rejection::kBadMac, with_authenticator,
       Audience::kReplica, true},
      {"RequestNamesAnotherClient", Rejection::kClientKeyMismatch,
       request([=](wire::Request& r) { r.set_client_key(other_client); })},
      {"ZeroRequestId", Rejection::kZeroRequestId,
       request([](wire::Request& r) { r.set_request_id(0); })},
      {"OperationTooLarge", Rejection::kOperationTooLarge,
       request([=](wire::Request& r) { r.set_operation(Bytes(operation_max + 1, 'o')); })},
      {"ReplyBadClientKey", Rejection::kBadClientKey,
       reply([](wire::Reply& r) { r.set_client_key("short"); }), client},
      {"ReplyZeroRequestId", Rejection::kZeroRequestId,
       reply([](wire::Reply& r) { r.set_request_id(0); }), client},
      {"ReplyViewOutOfRange", Rejection::kViewOutOfRange,
       reply([](wire::Reply& r) { r.set_view(~std::uint64_t{0}); }), client},
      {"ResultTooLarge", Rejection::kResultTooLarge,
       reply([=](wire::Reply& r) { r.set_result(Bytes(result_max + 1, 'r')); }), client},
  };
}

std::vector<Hostile> normal_case_cases() {
  const Cluster& c = cluster();
  View view_max = c.verifier().limits.view_max;
  Seq seq_max = c.verifier().limits.seq_max;
  std::size_t batch_max = c.verifier().limits.batch_requests_max;
  return {
      {"ShortDigest", Rejection::kBadDigestLength,
       [](const Cluster& cl) { return encode(prepare_for(cl, 0, 1, Bytes(31, 'd'))); }},
      {"EmptyStateDigest", Rejection::kBadDigestLength,
       [](const Cluster& cl) {
         return encode(cl.sign(1, wire::CHECKPOINT, Cluster::checkpoint_body(10, "")));
       }},
      {"ViewOutOfRange", Rejection::kViewOutOfRange,
       [=](const Cluster& cl) { return encode(prepare_for(cl, view_max + 1, 1, kDigest)); }},
      {"SeqOutOfRange", Rejection::kSeqOutOfRange,
       [=](const Cluster& cl) { return encode(prepare_for(cl, 0, seq_max + 1, kDigest)); }},
      {"SeqZero", Rejection::kSeqOutOfRange,
       [](const Cluster& cl) { return encode(prepare_for(cl, 0, 0, kDigest)); }},
      {"CheckpointSeqZero", Rejection::kSeqOutOfRange,
       [](const Cluster& cl) { return encode(cl.checkpoint(1, 0)); }},
      {"StatusSeqOutOfRange", Rejection::kSeqOutOfRange,
       [=](const Cluster& cl) {
         wire::Status status;
         status.set_last_executed(seq_max + 1);
         return encode(cl.sign(1, wire::STATUS, status));
       }},
      {"StatusStableSeqOutOfRange", Rejection::kSeqOutOfRange,
       [=](const Cluster& cl) {
         wire::Status status;
         status.set_stable_seq(seq_max + 1);
         return encode(cl.sign(1, wire::STATUS, status));
       }},
      {"FetchStateSeqZero", Rejection::kSeqOutOfRange,
       [](const Cluster& cl) { return encode(cl.sign(1, wire::FETCH_STATE, wire::FetchState())); }},
      {"PrePrepareFromNonPrimary", Rejection::kSenderNotPrimary,
       [](const Cluster& cl) {
         return encode(cl.sign(1, wire::PRE_PREPARE, cl.pre_prepare_body(0, 1)));
       }},
      {"BatchTooLarge", Rejection::kBatchTooLarge,
       [=](const Cluster& cl) {
         return encode(batch_of(cl, std::vector<wire::Envelope>(batch_max + 1, cl.request(0, 1))));
       }},
      {"BatchDigestMismatch", Rejection::kBatchDigestMismatch,
       [](const Cluster& cl) {
         wire::PrePrepare body = cl.pre_prepare_body(0, 1, {cl.request(0, 1)});
         body.set_digest(kDigest);
         return encode(cl.pre_prepare(body));
       }},
      {"RequestsReordered", Rejection::kBatchDigestMismatch,
       [](const Cluster& cl) {
         wire::PrePrepare body = cl.pre_prepare_body(0, 1, {cl.request(0, 1), cl.request(1, 1)});
         body.mutable_requests()->SwapElements(0, 1);
         return encode(cl.pre_prepare(body));
       }},
      {"DuplicateRequestInBatch", Rejection::kDuplicateRequestInBatch,
       [](const Cluster& cl) {
         return encode(batch_of(cl, {cl.request(0, 1), cl.request(0, 1)}));
       }},
      {"NestedRequestBadSignature", Rejection::kBadNestedRequest,
       [](const Cluster& cl) {
         wire::Envelope request = cl.request(0, 1);
         (*request.mutable_signature())[5] ^= 1;
         return encode(batch_of(cl, {request}));
       }},
      {"NestedRequestZeroId", Rejection::kBadNestedRequest,
       [](const Cluster& cl) { return encode(batch_of(cl, {cl.request(0, 0)})); }},
      {"NestedNonRequest", Rejection::kBadNestedRequest,
       [](const Cluster& cl) {
         // A signed pre-prepare where a request belongs: must not be opened as one.
         return encode(batch_of(cl, {cl.pre_prepare(cl.pre_prepare_body(0, 1))}));
       }},
  };
}

std::vector<Hostile> certificate_cases() {
  using VC = wire::ViewChange;
  using NV = wire::NewView;
  auto view_change = [](std::function<void(VC&)> edit) {
    return [edit](const Cluster& c) { return encode(view_change_with(c, edit)); };
  };
  auto new_view = [](std::function<void(NV&)> edit) {
    return [edit](const Cluster& c) { return encode(new_view_with(c, edit)); };
  };
  const Cluster& c = cluster();
  wire::PrePrepare prepared_at_11 = c.pre_prepare_body(1, 11, {c.request(0, 11)});
  wire::Envelope primary_prepare = c.prepare(c.primary(1), prepared_at_11);
  wire::Envelope other_digest_prepare = prepare_for(c, 1, 11, kDigest, c.backup(1, 1));
  std::vector<wire::Envelope> proof_for_9, proof_for_11;
  for (ReplicaId id = 0; id < c.quorums().quorum(); ++id) {
    proof_for_9.push_back(c.checkpoint(id, 9));
    proof_for_11.push_back(c.checkpoint(id, 11));
  }
  auto set_proof = [](VC& v, const std::vector<wire::Envelope>& proof) {
    v.clear_checkpoint_proof();
    for (const auto& checkpoint : proof) *v.add_checkpoint_proof() = checkpoint;
  };
  wire::Envelope other_state = c.sign(3, wire::CHECKPOINT, Cluster::checkpoint_body(10, kDigest));
  wire::Envelope view_change_for_3 = c.sign(3, wire::VIEW_CHANGE, c.view_change_body(3, 10));
  wire::Envelope pre_prepare_view_1 = c.pre_prepare(c.pre_prepare_body(1, 11));
  auto commit_certificate = [&](const std::function<void(wire::CommitCertificate&)>& edit) {
    wire::CommitCertificate certificate = c.commit_certificate(1, 4);
    edit(certificate);
    Bytes bytes = encode(c.sign(0, wire::COMMIT_CERTIFICATE, certificate));
    return [bytes](const Cluster&) { return bytes; };
  };
  auto checkpoint_certificate = [&](const std::function<void(wire::CheckpointCertificate&)>& edit) {
    wire::CheckpointCertificate certificate = c.checkpoint_certificate(10);
    edit(certificate);
    Bytes bytes = encode(c.sign(0, wire::CHECKPOINT_CERTIFICATE, certificate));
    return [bytes](const Cluster&) { return bytes; };
  };
  wire::Envelope commit_at_5 = c.commit(3, c.pre_prepare_body(1, 5));
  wire::Envelope checkpoint_other_state =
      c.sign(0, wire::CHECKPOINT, Cluster::checkpoint_body(10, kDigest));
  using CC = wire::CommitCertificate;
  using KC = wire::CheckpointCertificate;
  return {
      {"PreparedWithPrepareFromPrimary", Rejection::kBadCertificate,
       view_change([=](VC& v) { *v.mutable_prepared(0)->mutable_prepares(0) = primary_prepare; })},
      {"PreparedWithTooFewPrepares", Rejection::kBadCertificate,
       view_change([](VC& v) { v.mutable_prepared(0)->mutable_prepares()->RemoveLast(); })},
      {"PreparedWithDuplicatePrepare", Rejection::kBadCertificate, view_change([](VC& v) {
         auto* certificate = v.mutable_prepared(0);
         *certificate->mutable_prepares(1) = certificate->prepares(0);
       })},
      {"PreparedWithMismatchedDigest", Rejection::kBadCertificate, view_change([=](VC& v) {
         *v.mutable_prepared(0)->mutable_prepares(1) = other_digest_prepare;
       })},
      {"PreparedWithoutPrePrepare", Rejection::kBadCertificate,
       view_change([](VC& v) { v.mutable_prepared(0)->clear_pre_prepare(); })},
      {"PreparedAtOrBelowStableSeq", Rejection::kBadCertificate, view_change([=](VC& v) {
         v.set_stable_seq(11);  // with a valid proof for 11: only the certificate is wrong
         set_proof(v, proof_for_11);
       })},
      {"PreparedNotIncreasing", Rejection::kBadCertificate,
       view_change([](VC& v) { v.mutable_prepared()->SwapElements(0, 1); })},
      {"PreparedInTheNewView", Rejection::kBadCertificate,
       view_change([](VC& v) { v.set_new_view(1); })},
      {"ViewChangeStaleCheckpointProof", Rejection::kBadCertificate,
       view_change([=](VC& v) { set_proof(v, proof_for_9); })},
      {"ViewChangeShortCheckpointProof", Rejection::kBadCertificate,
       view_change([](VC& v) { v.mutable_checkpoint_proof()->RemoveLast(); })},
      {"ViewChangeCheckpointsDisagree", Rejection::kBadCertificate,
       view_change([=](VC& v) { *v.mutable_checkpoint_proof(2) = other_state; })},
      {"ViewChangeProofForSeqZero", Rejection::kBadCertificate, view_change([](VC& v) {
         v.set_stable_seq(0);
         v.clear_prepared();
       })},
      {"ViewChangeNewViewOutOfRange", Rejection::kViewOutOfRange,
       view_change([](VC& v) { v.set_new_view(~std::uint64_t{0}); })},
      {"ViewChangeStableSeqOutOfRange", Rejection::kSeqOutOfRange,
       view_change([](VC& v) { v.set_stable_seq(~std::uint64_t{0}); })},
      {"NewViewFromNonPrimary", Rejection::kSenderNotPrimary,
       [](const Cluster& cl) {
         return encode(cl.sign(1, wire::NEW_VIEW, cl.new_view_body(2, 10)));
       }},
      {"NewViewWithTooFewViewChanges", Rejection::kBadCertificate,
       new_view([](NV& v) { v.mutable_view_changes()->RemoveLast(); })},
      {"NewViewWithDuplicateViewChange", Rejection::kBadCertificate,
       new_view([](NV& v) { *v.mutable_view_changes(2) = v.view_changes(0); })},
      {"NewViewWithMoreThanNViewChanges", Rejection::kBadCertificate, new_view([](NV& v) {
         for (int i = 0; i < 2; ++i) *v.add_view_changes() = v.view_changes(0);
       })},
      {"NewViewWithViewChangeForAnotherView", Rejection::kBadCertificate,
       new_view([=](NV& v) { *v.mutable_view_changes(2) = view_change_for_3; })},
      {"NewViewWithPrePrepareOfAnotherView", Rejection::kBadCertificate,
       new_view([=](NV& v) { *v.mutable_pre_prepares(0) = pre_prepare_view_1; })},
      {"NewViewWithReproposalsOutOfOrder", Rejection::kBadCertificate,
       new_view([](NV& v) { v.mutable_pre_prepares()->SwapElements(0, 1); })},
      {"CommitCertificateWithDuplicatedSigner", Rejection::kBadCertificate,
       commit_certificate([](CC& k) { *k.mutable_commits(2) = k.commits(1); })},
      {"CommitCertificateWithMismatchedCommit", Rejection::kBadCertificate,
       commit_certificate([=](CC& k) { *k.mutable_commits(2) = commit_at_5; })},
      {"CommitCertificateWithTooFewCommits", Rejection::kBadCertificate,
       commit_certificate([](CC& k) { k.mutable_commits()->RemoveLast(); })},
      {"CommitCertificateWithoutPrePrepare", Rejection::kBadCertificate,
       commit_certificate([](CC& k) { k.clear_pre_prepare(); })},
      {"CommitCertificateWithForgedPrePrepare", Rejection::kBadCertificate,
       commit_certificate([](CC& k) { (*k.mutable_pre_prepare()->mutable_signature())[0] ^= 1; })},
      {"CheckpointCertificateDisagrees", Rejection::kBadCertificate,
       checkpoint_certificate([=](KC& k) { *k.mutable_checkpoints(0) = checkpoint_other_state; })},
      {"CheckpointCertificateTooShort", Rejection::kBadCertificate,
       checkpoint_certificate([](KC& k) { k.mutable_checkpoints()->RemoveLast(); })},
      {"CheckpointCertificateWithDuplicatedSigner", Rejection::kBadCertificate,
       checkpoint_certificate([](KC& k) { *k.mutable_checkpoints(2) = k.checkpoints(1); })},
  };
}

std::vector<Hostile> state_transfer_cases() {
  auto chunk = [](const std::function<void(wire::StateChunk&)>& edit) {
    return [edit](const Cluster& c) {
      wire::StateChunk body = Cluster::chunk_body();
      edit(body);
      return encode(c.sign(1, wire::STATE_CHUNK, body));
    };
  };
  const WireLimits& limits = cluster().verifier().limits;
  std::size_t chunk_max = limits.chunk_bytes_max;
  std::size_t depth_max = limits.merkle_depth_max;
  return {
      {"ChunkTooLarge", Rejection::kChunkTooLarge,
       chunk([=](wire::StateChunk& s) { s.set_data(Bytes(chunk_max + 1, 'c')); })},
      {"MerklePathTooDeep", Rejection::kBadCertificate, chunk([=](wire::StateChunk& s) {
         while (static_cast<std::size_t>(s.merkle_path_size()) <= depth_max) {
           s.add_merkle_path(Bytes(32, 'p'));
         }
       })},
      {"MerklePathShortDigest", Rejection::kBadCertificate,
       chunk([](wire::StateChunk& s) { s.set_merkle_path(1, Bytes(31, 'p')); })},
      {"ChunkSeqZero", Rejection::kSeqOutOfRange, chunk([](wire::StateChunk& s) { s.set_seq(0); })},
  };
}

std::vector<Hostile> hostile_cases() {
  std::vector<Hostile> all;
  for (auto cases : {envelope_cases(), request_and_reply_cases(), normal_case_cases(),
                     certificate_cases(), state_transfer_cases()}) {
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

class HostileInput : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileInput, IsRejectedWithItsOwnReason) {
  const Hostile& hostile = GetParam();
  Verifier verifier = cluster().verifier();
  if (hostile.mac_clients)
    verifier.replica_macs = std::make_shared<const pbft::ReplicaMacs>(
        0, crypto::SecretKey::derive_for_testing("replica", 0));
  EXPECT_EQ(rejection_of(hostile.make(cluster()), hostile.audience, verifier), hostile.expected);
}

INSTANTIATE_TEST_SUITE_P(Wire, HostileInput, ::testing::ValuesIn(hostile_cases()),
                         [](const ::testing::TestParamInfo<Hostile>& test) {
                           return std::string(test.param.name);
                         });

TEST(HostileInputTable, CoversEveryReason) {
  std::set<Rejection> covered;
  for (const Hostile& hostile : hostile_cases()) covered.insert(hostile.expected);
  for (int i = 0; i < static_cast<int>(Rejection::kCount); ++i) {
    EXPECT_TRUE(covered.count(static_cast<Rejection>(i)))
        << to_string(static_cast<Rejection>(i)) << " has no hostile case";
  }
}

// ---- limits --------------------------------------------------------------------------------

TEST(Limits, SizeIsCheckedBeforeDecoding) {
  Verifier small = cluster().verifier();
  Bytes bytes = encode(cluster().checkpoint(1, 10));
  small.limits.envelope_bytes_max = bytes.size();
  EXPECT_EQ(rejection_of(bytes, Audience::kReplica, small), Rejection::kCount);
  small.limits.envelope_bytes_max = bytes.size() - 1;
  EXPECT_EQ(rejection_of(bytes, Audience::kReplica, small), Rejection::kOversized);
}

TEST(Limits, AreInclusive) {
  const Cluster& c = cluster();
  Verifier tight = c.verifier();
  tight.limits.batch_requests_max = 2;
  tight.limits.operation_bytes_max = 16;
  tight.limits.view_max = 5;
  tight.limits.seq_max = 7;

  Bytes batch_of_2 = encode(batch_of(c, {c.request(0, 1), c.request(1, 1)}));
  Bytes batch_of_3 = encode(batch_of(c, {c.request(0, 1), c.request(1, 1), c.request(0, 2)}));
  EXPECT_EQ(rejection_of(batch_of_2, Audience::kReplica, tight), Rejection::kCount);
  EXPECT_EQ(rejection_of(batch_of_3, Audience::kReplica, tight), Rejection::kBatchTooLarge);

  wire::Request request = c.request_body(0, 1);
  request.set_operation(Bytes(16, 'o'));
  EXPECT_EQ(rejection_of(encode(c.sign_request(0, request)), Audience::kReplica, tight),
            Rejection::kCount);
  request.set_operation(Bytes(17, 'o'));
  EXPECT_EQ(rejection_of(encode(c.sign_request(0, request)), Audience::kReplica, tight),
            Rejection::kOperationTooLarge);

  EXPECT_EQ(rejection_of(encode(prepare_for(c, 5, 7, kDigest)), Audience::kReplica, tight),
            Rejection::kCount);
  EXPECT_EQ(rejection_of(encode(prepare_for(c, 6, 7, kDigest)), Audience::kReplica, tight),
            Rejection::kViewOutOfRange);
  EXPECT_EQ(rejection_of(encode(prepare_for(c, 5, 8, kDigest)), Audience::kReplica, tight),
            Rejection::kSeqOutOfRange);
}

TEST(Limits, PreparedCertificatesPerViewChange) {
  const Cluster& c = cluster();
  Verifier tight = c.verifier();
  tight.limits.prepared_certificates_max = 1;
  Bytes view_change = encode(c.sign(1, wire::VIEW_CHANGE, c.view_change_body(2, 10)));  // has 2
  EXPECT_EQ(rejection_of(view_change, Audience::kReplica, tight), Rejection::kBadCertificate);
  tight.limits.prepared_certificates_max = 2;
  EXPECT_EQ(rejection_of(view_change, Audience::kReplica, tight), Rejection::kCount);
}

TEST(RejectionNames, AreDistinctSnakeCase) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(Rejection::kCount); ++i) {
    std::string_view name = to_string(static_cast<Rejection>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos)
        << name;
    EXPECT_TRUE(names.insert(name).second) << name << " is used twice";
  }
  EXPECT_EQ(to_string(Rejection::kBadSignature), "bad_signature");
}

// ---- no input crashes it ----------------------------------------------------------------------

std::uint64_t fuzz_seed() {
  const char* text = std::getenv("PHALANX_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240611;
}

// Applies one random edit: flip bits, overwrite, insert, delete or truncate.
Bytes mutate(Bytes bytes, std::mt19937_64& random) {
  auto pick = [&](std::size_t bound) {
    return std::uniform_int_distribution<std::size_t>(0, bound)(random);
  };
  auto byte = [&] { return static_cast<char>(pick(255)); };
  int edits = 1 + static_cast<int>(pick(3));
  for (int i = 0; i < edits; ++i) {
    std::size_t at = bytes.empty() ? 0 : pick(bytes.size() - 1);
    switch (pick(4)) {
      case 0:
        if (!bytes.empty()) bytes[at] ^= static_cast<char>(1 << pick(7));
        break;
      case 1:
        if (!bytes.empty()) bytes[at] = byte();
        break;
      case 2:
        bytes.insert(at, 1 + pick(3), byte());
        break;
      case 3:
        if (!bytes.empty()) bytes.erase(at, 1 + pick(3));
        break;
      default:
        bytes.resize(at);
        break;
    }
  }
  return bytes;
}

// Opens `bytes` as both audiences; an outcome is an accepted message or a named reason.
void open_both_ways(const Bytes& bytes, std::map<Rejection, int>& outcomes) {
  for (Audience audience : {Audience::kReplica, Audience::kClient}) {
    Opened opened = open_envelope(bytes, cluster().verifier(), audience);
    ASSERT_NE(opened.ok(), opened.rejection != Rejection::kCount);
    ASSERT_LE(opened.rejection, Rejection::kCount);
    ++outcomes[opened.rejection];
  }
}

TEST(Robustness, RandomBytesNeverCrash) {
  std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("replay with PHALANX_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::map<Rejection, int> outcomes;
  for (int i = 0; i < 3000; ++i) {
    Bytes bytes(std::uniform_int_distribution<std::size_t>(0, 300)(random), '\0');
    for (char& b : bytes) b = static_cast<char>(random());
    open_both_ways(bytes, outcomes);
  }
  EXPECT_GE(outcomes.size(), 3u);
}

TEST(Robustness, MutatedEnvelopesNeverCrash) {
  std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("replay with PHALANX_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::vector<Valid> valid = valid_messages();
  std::map<Rejection, int> outcomes;
  for (int i = 0; i < 3000; ++i) {
    const Valid& original = valid[random() % valid.size()];
    open_both_ways(mutate(encode(original.envelope), random), outcomes);
  }
  EXPECT_GE(outcomes.size(), 4u);
}

// A Byzantine sender signs whatever it likes: mutate the payload, then sign it properly, so
// that decoding and field validation (not just the signature) see the garbage.
TEST(Robustness, SignedGarbagePayloadsNeverCrash) {
  std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("replay with PHALANX_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const Cluster& c = cluster();
  std::vector<Valid> valid = valid_messages();
  std::map<Rejection, int> outcomes;
  for (int i = 0; i < 2000; ++i) {
    const wire::Envelope& original = valid[random() % valid.size()].envelope;
    Bytes payload = mutate(original.payload(), random);
    wire::Envelope envelope = original;
    if (original.kind() == wire::REQUEST) {
      envelope.set_payload(payload);
      envelope.set_signature(crypto::Signer(crypto::SecretKey::derive_for_testing("client", 0))
                                 .sign(crypto::Domain{kClusterId, "request"}, payload)
                                 .bytes());
      envelope.set_client_key(c.client_key(0));
    } else {
      envelope = seal(c.replica(original.sender()), kClusterId, original.kind(), original.sender(),
                      payload);
    }
    open_both_ways(encode(envelope), outcomes);
  }
  EXPECT_GE(outcomes.size(), 5u) << "the mutations reach too few checks";
}

}  // namespace
}  // namespace phalanx::pbft
