#pragma once
// What one step of a core asks its driver to do. The driver carries a batch out in
// field order: persist (and sync) every record, then save the snapshot if there is one,
// then send the messages, then deliver the replies. Nothing may be sent before the
// records before it are durable: a replica that forgot what it signed could sign
// something conflicting after a restart (durable.h).
//
// A driver may group the batches of several steps (group commit): persist the records of
// all of them with one sync, then send all their messages. It must not let a step's
// messages leave before that step's records are durable, and it saves a snapshot after
// the records of the step that made it and before those of any later step (the
// snapshot re-states everything up to its step, and records after it must survive it).
//
// The application has already executed the batches listed in `executed` when the
// action batch is returned (the core calls Application::execute in sequence order
// because replies and checkpoint digests depend on the results); `executed` tells
// observers (checkers, metrics, logs) what happened.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx.pb.h"
#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/durable.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

struct Outgoing {
  std::optional<ReplicaId> to;  // nullopt: every other replica
  wire::Kind kind = wire::KIND_UNSPECIFIED;
  SharedBytes envelope;  // a serialized, signed wire::Envelope
};

struct ClientReply {
  crypto::PublicKey client;
  SharedBytes envelope;  // a signed REPLY
};

struct ExecutedRequest {
  crypto::PublicKey client;
  RequestId request_id = 0;
  crypto::Digest payload_digest;  // digest of the signed request payload
  bool duplicate = false;         // already executed earlier: skipped, not re-executed
};

struct ExecutedBatch {
  View view = 0;
  Seq seq = 0;
  crypto::Digest digest;
  std::vector<ExecutedRequest> requests;
};

// Things worth a log line or a metric; they change nothing by themselves.
struct Event {
  enum class Type {
    kViewChangeStarted,
    kViewEntered,
    kCheckpointStable,
    kStateTransferStarted,
    kStateTransferDone,
    kEvidence,         // a replica signed two conflicting messages (see Evidence)
    kStateDiverged,    // 2f+1 certified a checkpoint digest other than ours
    kRecovered,        // restarted from durable state; value: last executed seq
    kRejoinHorizon,    // rejoining without durable state: votes resume at seq `value`
    kRejoined,         // rejoining is over: this replica votes again
    kDroppedMessage,   // valid signature but useless or out of place (counted)
    kMessageTooLarge,  // this replica signed a message its peers will refuse (value: bytes)
  };
  Type type;
  std::uint64_t value = 0;  // view or seq, as the type says
  std::string detail;
  std::uint64_t bytes = 0;  // state transfers: the size of the state
};

inline std::string_view to_string(Event::Type type) {
  switch (type) {
    case Event::Type::kViewChangeStarted:
      return "view change started";
    case Event::Type::kViewEntered:
      return "view entered";
    case Event::Type::kCheckpointStable:
      return "checkpoint stable";
    case Event::Type::kStateTransferStarted:
      return "state transfer started";
    case Event::Type::kStateTransferDone:
      return "state transfer done";
    case Event::Type::kEvidence:
      return "evidence";
    case Event::Type::kStateDiverged:
      return "state diverged";
    case Event::Type::kDroppedMessage:
      return "dropped";
    case Event::Type::kRecovered:
      return "recovered from durable state: last executed";
    case Event::Type::kRejoinHorizon:
      return "rejoining: votes resume at seq";
    case Event::Type::kRejoined:
      return "rejoined: voting again at seq";
    case Event::Type::kMessageTooLarge:
      return "message too large to send: bytes";
  }
  return "event";
}

// Proof that `replica` is faulty (S5): two conflicting messages it signed for one slot,
// or one message that proves it alone (a NEW-VIEW whose re-proposals do not follow from
// the view changes it carries; `second` is null then).
struct Evidence {
  ReplicaId replica = 0;
  std::string what;  // e.g. "two pre-prepares for view 3 seq 17"
  SharedBytes first;
  SharedBytes second;
};

struct Actions {
  std::vector<DurableRecord> persist;
  std::optional<Snapshot> snapshot;  // a stable checkpoint's state to make durable
  std::vector<Outgoing> send;
  std::vector<ClientReply> replies;
  std::vector<ExecutedBatch> executed;
  std::vector<Event> events;
  std::vector<Evidence> evidence;

  bool empty() const {
    return persist.empty() && !snapshot && send.empty() && replies.empty() && executed.empty() &&
           events.empty() && evidence.empty();
  }
};

}  // namespace phalanx::pbft
