// Steps 5-6 of open_envelope() (wire.h): decoding an authenticated payload as its kind and
// validating every field, nested batches and certificates included. Stateless: whether a
// message fits the replica's view, watermarks or log is the core's question.
#include "validate.h"

#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "phalanx/base/assert.h"

namespace phalanx::pbft::wire_detail {
namespace {

using Envelopes = google::protobuf::RepeatedPtrField<wire::Envelope>;

// What a payload's checks may need besides the payload itself.
struct Context {
  const wire::Envelope& envelope;
  ReplicaId sender;  // authenticated; 0 for a REQUEST
  const Verifier& verifier;

  const WireLimits& limits() const { return verifier.limits; }
  Quorums quorums() const { return verifier.quorums(); }
};

bool is_digest(const Bytes& bytes) {
  return bytes.size() == crypto::Digest::kSize;
}

// A sequence number that names a batch: 1 .. seq_max (0 is "nothing yet").
bool is_batch_seq(Seq seq, const WireLimits& limits) {
  return seq >= 1 && seq <= limits.seq_max;
}

// Bounds of a PRE-PREPARE, PREPARE or COMMIT: they share (view, seq, digest).
template <typename Proto>
Failure check_slot(const Proto& message, const WireLimits& limits) {
  if (message.view() > limits.view_max) return Rejection::kViewOutOfRange;
  if (!is_batch_seq(message.seq(), limits)) return Rejection::kSeqOutOfRange;
  if (!is_digest(message.digest())) return Rejection::kBadDigestLength;
  return std::nullopt;
}

template <typename A, typename B>
bool same_slot(const A& a, const B& b) {
  return a.view() == b.view() && a.seq() == b.seq() && a.digest() == b.digest();
}

// Certificates count distinct replicas. `seen` has one entry per replica; open_nested has
// already checked that the id is below n.
bool first_time(std::vector<bool>& seen, ReplicaId sender) {
  if (seen[sender]) return false;
  seen[sender] = true;
  return true;
}

// Between `minimum` and n envelopes: counted before any signature is checked.
bool count_within(int size, std::size_t minimum, const Quorums& quorums) {
  auto count = static_cast<std::size_t>(size);
  return count >= minimum && count <= quorums.n;
}

// Opens an envelope nested in a batch or certificate as a `Proto`; nullptr when it is of
// another kind or fails its own checks. The kind is checked first, so the depth of nesting
// is bounded by the schema whatever a Byzantine signer puts in a payload (a PRE-PREPARE
// "request" holding a PRE-PREPARE holding ... would otherwise recurse without limit).
// The result points into `message`, which must outlive it.
template <typename Proto>
const Proto* open_nested(const wire::Envelope& envelope, wire::Kind kind, const Verifier& verifier,
                         Message& message) {
  if (envelope.kind() != kind) return nullptr;
  if (check_envelope(envelope, verifier, Audience::kReplica, message)) return nullptr;
  return &std::get<Proto>(message.body);
}

// Every envelope is a valid `Proto` for the pre-prepare's (view, seq, digest), each from a
// replica not yet in `seen`.
template <typename Proto>
bool all_match(const Envelopes& envelopes, wire::Kind kind, const wire::PrePrepare& pre_prepare,
               const Verifier& verifier, std::vector<bool>& seen) {
  for (const auto& envelope : envelopes) {
    Message message;
    const auto* vote = open_nested<Proto>(envelope, kind, verifier, message);
    if (vote == nullptr || !same_slot(*vote, pre_prepare) || !first_time(seen, message.sender)) {
      return false;
    }
  }
  return true;
}

// 2f+1 CHECKPOINTs from distinct replicas agreeing on (seq, state): the proof that a
// checkpoint is stable (PBFT section 4.3). Returns the agreed seq.
std::optional<Seq> check_checkpoint_quorum(const Envelopes& checkpoints, const Verifier& verifier) {
  Quorums quorums = verifier.quorums();
  if (!count_within(checkpoints.size(), quorums.quorum(), quorums)) return std::nullopt;
  std::vector<bool> seen(quorums.n);
  std::optional<wire::Checkpoint> agreed;
  for (const auto& envelope : checkpoints) {
    Message message;
    const auto* checkpoint =
        open_nested<wire::Checkpoint>(envelope, wire::CHECKPOINT, verifier, message);
    if (checkpoint == nullptr || !first_time(seen, message.sender)) return std::nullopt;
    if (!agreed) agreed = *checkpoint;
    if (checkpoint->seq() != agreed->seq() ||
        checkpoint->state_digest() != agreed->state_digest() ||
        checkpoint->state_size() != agreed->state_size()) {
      return std::nullopt;
    }
  }
  return agreed->seq();
}

struct Slot {
  View view;
  Seq seq;
};

// A pre-prepare and 2f matching prepares from distinct backups: the request prepared at
// (view, seq) (PBFT section 4.2). Returns that slot.
std::optional<Slot> check_prepared(const wire::PreparedCertificate& certificate,
                                   const Verifier& verifier) {
  Quorums quorums = verifier.quorums();
  if (!count_within(certificate.prepares_size(), 2 * quorums.f(), quorums)) return std::nullopt;
  Message message;
  const auto* pre_prepare = open_nested<wire::PrePrepare>(certificate.pre_prepare(),
                                                          wire::PRE_PREPARE, verifier, message);
  if (pre_prepare == nullptr) return std::nullopt;
  std::vector<bool> seen(quorums.n);
  seen[quorums.primary(pre_prepare->view())] = true;  // the primary's pre-prepare is its vote
  if (!all_match<wire::Prepare>(certificate.prepares(), wire::PREPARE, *pre_prepare, verifier,
                                seen)) {
    return std::nullopt;
  }
  return Slot{pre_prepare->view(), pre_prepare->seq()};
}

// ---- one validator per kind -------------------------------------------------------------

Failure validate(const wire::Request& request, const Context& context) {
  if (request.client_key() != context.envelope.client_key()) return Rejection::kClientKeyMismatch;
  if (request.request_id() == 0) return Rejection::kZeroRequestId;
  if (request.operation().size() > context.limits().operation_bytes_max) {
    return Rejection::kOperationTooLarge;
  }
  return std::nullopt;
}

Failure validate(const wire::Reply& reply, const Context& context) {
  if (reply.client_key().size() != crypto::PublicKey::kSize) return Rejection::kBadClientKey;
  if (reply.request_id() == 0) return Rejection::kZeroRequestId;
  if (reply.view() > context.limits().view_max) return Rejection::kViewOutOfRange;
  if (reply.result().size() > context.limits().result_bytes_max) return Rejection::kResultTooLarge;
  return std::nullopt;
}

// Every request in a batch is client-signed (or carries a well-formed authenticator: its
// entries are checked at the top level, open.cc) and valid on its own, and none appears twice.
Failure check_batch(const Envelopes& requests, const Verifier& verifier) {
  std::set<std::pair<std::string_view, RequestId>> seen;  // views into `requests`
  for (const auto& envelope : requests) {
    Message message;
    const auto* request = open_nested<wire::Request>(envelope, wire::REQUEST, verifier, message);
    if (request == nullptr) return Rejection::kBadNestedRequest;
    if (!seen.emplace(envelope.client_key(), request->request_id()).second) {
      return Rejection::kDuplicateRequestInBatch;
    }
  }
  return std::nullopt;
}

Failure validate(const wire::PrePrepare& pre_prepare, const Context& context) {
  if (Failure failure = check_slot(pre_prepare, context.limits())) return failure;
  if (context.sender != context.quorums().primary(pre_prepare.view())) {
    return Rejection::kSenderNotPrimary;
  }
  if (static_cast<std::size_t>(pre_prepare.requests_size()) > context.limits().batch_requests_max) {
    return Rejection::kBatchTooLarge;
  }
  if (Failure failure = check_batch(pre_prepare.requests(), context.verifier)) return failure;
  if (batch_digest(pre_prepare).view() != pre_prepare.digest()) {
    return Rejection::kBatchDigestMismatch;
  }
  return std::nullopt;
}

// Whether a prepare from the primary counts is the core's rule, not a wire check.
Failure validate(const wire::Prepare& prepare, const Context& context) {
  return check_slot(prepare, context.limits());
}

Failure validate(const wire::Commit& commit, const Context& context) {
  return check_slot(commit, context.limits());
}

Failure validate(const wire::Checkpoint& checkpoint, const Context& context) {
  if (!is_batch_seq(checkpoint.seq(), context.limits())) return Rejection::kSeqOutOfRange;
  if (!is_digest(checkpoint.state_digest())) return Rejection::kBadDigestLength;
  return std::nullopt;
}

// The checkpoint proof: none for the initial state, else 2f+1 CHECKPOINTs for stable_seq.
bool check_stable_proof(const wire::ViewChange& view_change, const Verifier& verifier) {
  if (view_change.stable_seq() == 0) return view_change.checkpoint_proof().empty();
  auto seq = check_checkpoint_quorum(view_change.checkpoint_proof(), verifier);
  return seq && *seq == view_change.stable_seq();
}

// The paper's P set (section 4.4): one prepared certificate per seq above the stable
// checkpoint, in increasing seq, each prepared in a view before the new one.
bool check_prepared_set(const wire::ViewChange& view_change, const Verifier& verifier) {
  if (static_cast<std::size_t>(view_change.prepared_size()) >
      verifier.limits.prepared_certificates_max) {
    return false;
  }
  Seq previous = view_change.stable_seq();
  for (const auto& certificate : view_change.prepared()) {
    auto slot = check_prepared(certificate, verifier);
    if (!slot || slot->seq <= previous || slot->view >= view_change.new_view()) return false;
    previous = slot->seq;
  }
  return true;
}

Failure validate(const wire::ViewChange& view_change, const Context& context) {
  if (view_change.new_view() > context.limits().view_max) return Rejection::kViewOutOfRange;
  if (view_change.stable_seq() > context.limits().seq_max) return Rejection::kSeqOutOfRange;
  if (!check_stable_proof(view_change, context.verifier)) return Rejection::kBadCertificate;
  if (!check_prepared_set(view_change, context.verifier)) return Rejection::kBadCertificate;
  return std::nullopt;
}

// The paper's V set (section 4.4): 2f+1 VIEW-CHANGEs from distinct replicas for this view.
bool check_view_changes(const wire::NewView& new_view, const Verifier& verifier) {
  Quorums quorums = verifier.quorums();
  if (!count_within(new_view.view_changes_size(), quorums.quorum(), quorums)) return false;
  std::vector<bool> seen(quorums.n);
  for (const auto& envelope : new_view.view_changes()) {
    Message message;
    const auto* view_change =
        open_nested<wire::ViewChange>(envelope, wire::VIEW_CHANGE, verifier, message);
    if (view_change == nullptr || !first_time(seen, message.sender) ||
        view_change->new_view() != new_view.view()) {
      return false;
    }
  }
  return true;
}

// The paper's O set: pre-prepares of the new view, in increasing seq. Whether they follow
// from V is the core's to recompute. Their count is bounded like a view change's P set.
bool check_reproposals(const wire::NewView& new_view, const Verifier& verifier) {
  if (static_cast<std::size_t>(new_view.pre_prepares_size()) >
      verifier.limits.prepared_certificates_max) {
    return false;
  }
  Seq previous = 0;
  for (const auto& envelope : new_view.pre_prepares()) {
    Message message;
    const auto* pre_prepare =
        open_nested<wire::PrePrepare>(envelope, wire::PRE_PREPARE, verifier, message);
    if (pre_prepare == nullptr || pre_prepare->view() != new_view.view() ||
        pre_prepare->seq() <= previous) {
      return false;
    }
    previous = pre_prepare->seq();
  }
  return true;
}

Failure validate(const wire::NewView& new_view, const Context& context) {
  if (new_view.view() > context.limits().view_max) return Rejection::kViewOutOfRange;
  if (context.sender != context.quorums().primary(new_view.view())) {
    return Rejection::kSenderNotPrimary;
  }
  if (!check_view_changes(new_view, context.verifier)) return Rejection::kBadCertificate;
  if (!check_reproposals(new_view, context.verifier)) return Rejection::kBadCertificate;
  return std::nullopt;
}

Failure validate(const wire::Status& status, const Context& context) {
  if (status.view() > context.limits().view_max) return Rejection::kViewOutOfRange;
  if (status.last_executed() > context.limits().seq_max ||
      status.stable_seq() > context.limits().seq_max) {
    return Rejection::kSeqOutOfRange;
  }
  return std::nullopt;
}

// A pre-prepare and 2f+1 matching commits from distinct replicas: the slot committed.
Failure validate(const wire::CommitCertificate& certificate, const Context& context) {
  Quorums quorums = context.quorums();
  if (!count_within(certificate.commits_size(), quorums.quorum(), quorums)) {
    return Rejection::kBadCertificate;
  }
  Message message;
  const auto* pre_prepare = open_nested<wire::PrePrepare>(
      certificate.pre_prepare(), wire::PRE_PREPARE, context.verifier, message);
  if (pre_prepare == nullptr) return Rejection::kBadCertificate;
  std::vector<bool> seen(quorums.n);
  if (!all_match<wire::Commit>(certificate.commits(), wire::COMMIT, *pre_prepare, context.verifier,
                               seen)) {
    return Rejection::kBadCertificate;
  }
  return std::nullopt;
}

Failure validate(const wire::CheckpointCertificate& certificate, const Context& context) {
  if (!check_checkpoint_quorum(certificate.checkpoints(), context.verifier)) {
    return Rejection::kBadCertificate;
  }
  return std::nullopt;
}

Failure validate(const wire::FetchState& fetch, const Context& context) {
  if (!is_batch_seq(fetch.seq(), context.limits())) return Rejection::kSeqOutOfRange;
  return std::nullopt;
}

Failure validate(const wire::StateChunk& chunk, const Context& context) {
  if (!is_batch_seq(chunk.seq(), context.limits())) return Rejection::kSeqOutOfRange;
  if (chunk.data().size() > context.limits().chunk_bytes_max) return Rejection::kChunkTooLarge;
  if (static_cast<std::size_t>(chunk.merkle_path_size()) > context.limits().merkle_depth_max) {
    return Rejection::kBadCertificate;
  }
  for (const auto& sibling : chunk.merkle_path()) {
    if (!is_digest(sibling)) return Rejection::kBadCertificate;
  }
  return std::nullopt;
}

template <typename Proto>
Failure decode_as(const Context& context, Body& body) {
  Proto message;
  if (!message.ParseFromString(context.envelope.payload())) return Rejection::kMalformedPayload;
  if (has_unknown_fields(message)) return Rejection::kUnknownFields;
  if (Failure failure = validate(message, context)) return failure;
  body = std::move(message);
  return std::nullopt;
}

}  // namespace

Failure decode_body(const wire::Envelope& envelope, ReplicaId sender, const Verifier& verifier,
                    Body& body) {
  Context context{envelope, sender, verifier};
  switch (envelope.kind()) {
    case wire::REQUEST:
      return decode_as<wire::Request>(context, body);
    case wire::REPLY:
      return decode_as<wire::Reply>(context, body);
    case wire::PRE_PREPARE:
      return decode_as<wire::PrePrepare>(context, body);
    case wire::PREPARE:
      return decode_as<wire::Prepare>(context, body);
    case wire::COMMIT:
      return decode_as<wire::Commit>(context, body);
    case wire::CHECKPOINT:
      return decode_as<wire::Checkpoint>(context, body);
    case wire::VIEW_CHANGE:
      return decode_as<wire::ViewChange>(context, body);
    case wire::NEW_VIEW:
      return decode_as<wire::NewView>(context, body);
    case wire::STATUS:
      return decode_as<wire::Status>(context, body);
    case wire::COMMIT_CERTIFICATE:
      return decode_as<wire::CommitCertificate>(context, body);
    case wire::CHECKPOINT_CERTIFICATE:
      return decode_as<wire::CheckpointCertificate>(context, body);
    case wire::FETCH_STATE:
      return decode_as<wire::FetchState>(context, body);
    case wire::STATE_CHUNK:
      return decode_as<wire::StateChunk>(context, body);
    default:
      break;
  }
  PHALANX_ASSERT(false, "decode_body called on a kind check_envelope rejects");
  return Rejection::kUnknownKind;
}

namespace {

// The message-typed fields of a message type, the only ones the search below descends into.
// Found once per type and thread: listing the set fields of every message by reflection
// (ListFields) was 5% of a loaded replica's CPU.
const std::vector<const google::protobuf::FieldDescriptor*>& message_fields(
    const google::protobuf::Descriptor* type) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*,
                                  std::vector<const google::protobuf::FieldDescriptor*>>
      by_type;
  auto [it, inserted] = by_type.try_emplace(type);
  if (inserted) {
    for (int i = 0; i < type->field_count(); ++i) {
      const auto* field = type->field(i);
      if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
        it->second.push_back(field);
    }
  }
  return it->second;
}

}  // namespace

bool has_unknown_fields(const google::protobuf::Message& message) {
  const auto* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  for (const auto* field : message_fields(message.GetDescriptor())) {
    if (!field->is_repeated()) {
      if (reflection->HasField(message, field) &&
          has_unknown_fields(reflection->GetMessage(message, field)))
        return true;
      continue;
    }
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      if (has_unknown_fields(reflection->GetRepeatedMessage(message, field, i))) return true;
    }
  }
  return false;
}

}  // namespace phalanx::pbft::wire_detail
