#pragma once
// Private to the wire layer: the checks behind open_envelope(), split so that open.cc holds
// the envelope (steps 2-4: kind, sender, signature) and validate.cc the payloads (steps
// 5-6: decode and field validation, certificates included). The two recurse into each
// other for nested envelopes; the recursion is bounded by the schema because a nested
// envelope's kind is checked before it is opened (see validate.cc).
//
// Thread-safety: pure functions of their arguments.

#include <optional>

#include "phalanx/pbft/wire.h"

namespace phalanx::pbft::wire_detail {

// Why a check failed; nullopt means it passed.
using Failure = std::optional<Rejection>;

// Steps 2 (unknown fields, kind, audience) to 6 on a decoded envelope. On success fills
// every field of `message` except `envelope`, which the caller owns.
Failure check_envelope(const wire::Envelope& envelope, const Verifier& verifier, Audience audience,
                       Message& message);

// Step 7, at the top level only: the MACs meant for this receiver. Fills
// message.unvouched_requests for a PRE-PREPARE. `message` is check_envelope's result.
Failure check_macs(const wire::Envelope& envelope, const Verifier& verifier, Message& message);

// Steps 5 and 6: decodes the (already authenticated) payload of `envelope` as its kind and
// validates every field. `sender` is the authenticated replica id (0 for a REQUEST).
Failure decode_body(const wire::Envelope& envelope, ReplicaId sender, const Verifier& verifier,
                    Body& body);

// True when `message`, or any message nested in it, carries fields this version does not
// know. Payload bytes of nested envelopes are not looked into (they are decoded later).
bool has_unknown_fields(const google::protobuf::Message& message);

}  // namespace phalanx::pbft::wire_detail
