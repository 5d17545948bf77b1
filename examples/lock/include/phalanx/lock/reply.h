#pragma once
// What the lock service answers, as a value, its encoding and its one-line text.
//
// A reply is what f+1 replicas agree on, so it carries only agreed facts: tokens, the
// owner's public key and times of the replicated log (unix ms, the batch times of
// RequestContext::time), never a replica's own clock.
//
// Encoding: the outcome byte, token (u64), until_ms (u64), owner (32 bytes), detail
// (u32 length, bytes): 53 bytes and the detail. Replies come from replicas, and a faulty
// one may send anything; decode() returns flaws as Errors (the client only ever accepts
// a reply f+1 replicas sent byte for byte, so at least one correct replica made it).
//
// Thread-safety: pure functions of their arguments.
#include <cstdint>
#include <string>

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/lock/operation.h"
#include "phalanx/pbft/types.h"

namespace phalanx::lock {

enum class Outcome : std::uint8_t {
  kGranted,       // acquire: the lock is yours; token and until_ms
  kRenewed,       // renew: your lease now ends at until_ms; token unchanged
  kReleased,      // release: the lock is free; token is the one given back
  kHeld,          // acquire, query: owner holds it with token until until_ms
  kFree,          // query: nobody holds it
  kNotHolder,     // release, renew: owner holds it, not you (token, until_ms: theirs)
  kNotHeld,       // release, renew: nobody holds it (never taken, released, or lease ended)
  kStaleToken,    // release, renew: you hold it, but under `token`, not the one you gave
  kTooManyLocks,  // acquire: kLocksMax locks are held; detail says so
  kNoTime,        // any: the cluster runs without batch times, so leases cannot end
  kMalformed,     // any: the operation does not decode; detail says why (the last)
};

struct Reply {
  Outcome outcome = Outcome::kMalformed;
  Token token = 0;
  pbft::UnixMillis until_ms = 0;
  crypto::PublicKey owner;
  std::string detail;

  bool operator==(const Reply&) const = default;
};

Bytes encode(const Reply& reply);
Result<Reply> decode_reply(ByteView bytes);

// One line for a person: "granted token 7 until 2027-01-15T08:00:01.234Z", "held by
// 1a2b3c4d with token 7 until ...", "refused: not the holder (...)". `you`, when given,
// is the asker's key: an owner equal to it is shown as "you".
std::string describe(const Reply& reply, const crypto::PublicKey* you = nullptr);

// Unix ms as UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ" (pure arithmetic; no clock, no locale).
std::string format_utc(pbft::UnixMillis unix_ms);

}  // namespace phalanx::lock
