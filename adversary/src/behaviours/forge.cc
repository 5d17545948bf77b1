// forge: a replica that sends forgeries, each of which the receiving edge must reject
// (pbft/wire.h: the signature is checked against the key of the claimed signer, in the
// cluster's and the kind's domain, and every nested envelope the same way):
// - impersonate: copies of its own messages claiming another replica as their sender,
//   signed with its own key (bad_signature);
// - bad-signature: copies with random signature bytes (bad_signature);
// - tamper: copies with one payload bit flipped after signing (bad_signature);
// - fake-certificate: COMMIT_CERTIFICATEs and CHECKPOINT_CERTIFICATEs, validly signed
//   themselves, whose nested COMMITs or CHECKPOINTs claim other replicas but are signed by
//   it (bad_certificate);
// - client-request: REQUESTs for client keys it does not hold, signed with its own key:
//   for a key derived from its seed, and copies of real clients' requests with another
//   operation (bad_signature);
// - other-cluster: its messages signed again for another cluster id (bad_signature).
// The forgeries go to one random peer each, `per_second` of them, besides its honest
// messages; with replace=true (tamper and bad-signature) every message it sends is
// forged instead, so that nothing it says is heard.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

using behaviours::parse;
using behaviours::signed_by;

constexpr std::size_t kRecentOwnMax = 64;       // own messages it makes copies of
constexpr std::size_t kRecentRequestsMax = 64;  // real client requests it forges from

class Forge final : public Behaviour {
 public:
  struct Config {
    std::string mode;
    std::uint64_t per_second = 200;
    bool replace = false;
  };

  Forge(BehaviourContext context, Config config, crypto::Signer signer)
      : Behaviour(std::move(context)),
        config_(std::move(config)),
        signer_(std::move(signer)),
        pacer_(config_.per_second),
        foreign_cluster_(behaviours::other_cluster_id(this->context().cluster_id)),
        unowned_client_(crypto::SecretKey::derive_for_testing("forged-client", this->context().seed)
                            .public_key()) {}
  std::string_view name() const override { return "forge"; }

  Emissions on_send(net::NodeId to, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (config_.replace) return {{forged_copy(bytes)}};
    if (to < context().replicas && signed_by(envelope, context().id)) {
      own_.push(bytes);
      if (envelope.kind() == wire::CHECKPOINT)
        last_checkpoint_ = parse<wire::Checkpoint>(envelope.payload());
      if (envelope.kind() == wire::PRE_PREPARE) pre_prepares_.push(envelope);
    }
    return {{bytes}};
  }

  void on_receive(const wire::Envelope& envelope) override {
    if (envelope.kind() == wire::REQUEST) requests_.push(envelope);
    if (envelope.kind() != wire::PRE_PREPARE) return;
    pre_prepares_.push(envelope);
    if (auto batch = parse<wire::PrePrepare>(envelope.payload()))
      for (const auto& request : batch->requests()) requests_.push(request);
  }

  std::vector<Outbound> on_tick(pbft::Instant now) override {
    if (config_.replace || !pacer_.due(now)) return {};
    ++made_;
    return {Outbound{behaviours::random_peer(rng(), context().replicas, context().id), forgery()}};
  }
  pbft::Instant next_tick() const override {
    return config_.replace ? kNoTick : pacer_.next_tick();
  }

 private:
  net::SharedBytes forgery() {
    const std::string& mode = config_.mode;
    if (mode == "fake-certificate")
      return made_ % 2 == 0 ? fake_commit_certificate() : fake_checkpoint_certificate();
    if (mode == "client-request")
      return made_ % 2 == 0 || requests_.empty() ? request_for_unowned_key() : altered_request();
    net::SharedBytes original = own_message();
    if (mode == "impersonate")
      return behaviours::with_sender(
          original, behaviours::random_peer(rng(), context().replicas, context().id));
    if (mode == "other-cluster") {
      auto envelope = behaviours::parse_envelope(*original);
      return behaviours::share(pbft::seal(signer_, foreign_cluster_, envelope->kind(), context().id,
                                          envelope->payload()));
    }
    return forged_copy(original);  // bad-signature, tamper
  }

  // One of its recent messages to replicas, or a fresh STATUS before it sent any.
  net::SharedBytes own_message() {
    if (!own_.empty()) return own_.pick(rng());
    wire::Status status;
    status.set_last_executed(1);  // a non-empty payload, for tamper
    return reseal(wire::STATUS, pbft::encode(status));
  }

  // bad-signature and tamper: the message, broken after signing.
  net::SharedBytes forged_copy(const net::SharedBytes& bytes) {
    auto envelope = behaviours::parse_envelope(*bytes);
    if (!envelope) return bytes;
    if (config_.mode == "bad-signature") {
      envelope->set_signature(behaviours::random_bytes(rng(), crypto::Signature::kSize));
    } else if (envelope->payload().empty()) {
      envelope->set_payload(behaviours::random_bytes(rng(), 1));
    } else {
      std::string& payload = *envelope->mutable_payload();
      payload[rng().uniform(0, payload.size() - 1)] ^= static_cast<char>(1u << rng().uniform(0, 7));
    }
    return behaviours::share(*envelope);
  }

  // The quorum's replicas, itself first: the others are the forged claims.
  std::vector<pbft::ReplicaId> claimed_signers() const {
    std::vector<pbft::ReplicaId> signers{context().id};
    pbft::Quorums quorums{context().replicas};
    for (pbft::ReplicaId id = 0; signers.size() < quorums.quorum(); ++id)
      if (id != context().id) signers.push_back(id);
    return signers;
  }

  net::SharedBytes fake_commit_certificate() {
    wire::CommitCertificate certificate;
    if (!pre_prepares_.empty()) {
      *certificate.mutable_pre_prepare() = pre_prepares_.pick(rng());
    } else {
      wire::PrePrepare null_batch;
      null_batch.set_view(context().id);  // a view it is the primary of
      null_batch.set_seq(1);
      null_batch.set_digest(pbft::batch_digest(null_batch).bytes());
      *certificate.mutable_pre_prepare() =
          *behaviours::parse_envelope(*reseal(wire::PRE_PREPARE, pbft::encode(null_batch)));
    }
    auto batch = parse<wire::PrePrepare>(certificate.pre_prepare().payload());
    wire::Commit commit;
    commit.set_view(batch->view());
    commit.set_seq(batch->seq());
    commit.set_digest(batch->digest());
    net::SharedBytes signed_commit = reseal(wire::COMMIT, pbft::encode(commit));
    for (pbft::ReplicaId signer : claimed_signers())
      *certificate.add_commits() =
          *behaviours::parse_envelope(*behaviours::with_sender(signed_commit, signer));
    return reseal(wire::COMMIT_CERTIFICATE, pbft::encode(certificate));
  }

  net::SharedBytes fake_checkpoint_certificate() {
    wire::Checkpoint checkpoint;
    if (last_checkpoint_) {
      checkpoint = *last_checkpoint_;
    } else {
      checkpoint.set_seq(1);
      checkpoint.set_state_digest(behaviours::random_bytes(rng(), crypto::Digest::kSize));
    }
    net::SharedBytes signed_checkpoint = reseal(wire::CHECKPOINT, pbft::encode(checkpoint));
    wire::CheckpointCertificate certificate;
    for (pbft::ReplicaId signer : claimed_signers())
      *certificate.add_checkpoints() =
          *behaviours::parse_envelope(*behaviours::with_sender(signed_checkpoint, signer));
    return reseal(wire::CHECKPOINT_CERTIFICATE, pbft::encode(certificate));
  }

  net::SharedBytes request_for_unowned_key() {
    wire::Request request;
    request.set_client_key(unowned_client_.bytes());
    request.set_request_id(made_);
    request.set_operation(behaviours::random_bytes(rng(), rng().uniform(1, 64)));
    return behaviours::share(behaviours::seal_request_as(signer_, context().cluster_id, request));
  }

  // A real client's request with another operation, signed by this replica.
  net::SharedBytes altered_request() {
    auto request = parse<wire::Request>(requests_.pick(rng()).payload());
    if (!request) return request_for_unowned_key();
    request->set_operation(request->operation() + "!");
    return behaviours::share(behaviours::seal_request_as(signer_, context().cluster_id, *request));
  }

  Config config_;
  crypto::Signer signer_;  // the replica's own key, for signing what reseal() cannot
  behaviours::Pacer pacer_;
  std::string foreign_cluster_;
  crypto::PublicKey unowned_client_;
  std::uint64_t made_ = 0;
  behaviours::Recent<net::SharedBytes> own_{kRecentOwnMax};
  behaviours::Recent<wire::Envelope> pre_prepares_{kRecentRequestsMax};
  behaviours::Recent<wire::Envelope> requests_{kRecentRequestsMax};
  std::optional<wire::Checkpoint> last_checkpoint_;
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_forge(BehaviourContext context) {
  behaviours::Params params(context);
  Forge::Config config;
  config.mode = params.choice("mode", std::nullopt,
                              {"impersonate", "bad-signature", "tamper", "fake-certificate",
                               "client-request", "other-cluster"});
  config.per_second = params.number("per_second", 200, 1, behaviours::kPerSecondMax);
  config.replace = params.flag("replace", false);
  if (auto error = params.error()) return *error;
  if (config.replace && config.mode != "tamper" && config.mode != "bad-signature")
    return Error{"parameter replace=true applies only to mode tamper or bad-signature (mode is " +
                 config.mode + ")"};
  crypto::Signer signer(context.key.clone());
  return std::unique_ptr<Behaviour>(
      std::make_unique<Forge>(std::move(context), std::move(config), std::move(signer)));
}

}  // namespace phalanx::adversary
