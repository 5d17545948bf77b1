#pragma once
// LockTable: the rules of the lock service, a deterministic state machine over agreed
// inputs only: who asks (the client's public key), what (an Operation), and when (the
// agreed time of the request's batch, RequestContext::time). It never reads a clock.
//
// The rules (README.md here says why):
// - A lease holds over [granted, until_ms) of agreed time. A lock whose until_ms <= now
//   is free for every operation at now; the table forgets it then.
// - acquire grants a free lock with the next fencing token. One counter for all locks,
//   one step per grant, never reused or reset (releases and renewals leave it alone), so
//   a grant executed after another always carries a larger token. A held lock is
//   refused with its holder, the asker included (a holder extends with renew).
// - release and renew need the holder's key and its current token; renew sets until_ms
//   to now + lease and keeps the token.
// - At most kLocksMax locks are held at once; more acquires are refused until some end.
// - Time 0 means the cluster runs without batch times: no lease could ever end, so every
//   operation is refused (Outcome::kNoTime).
//
// Invariants: every lease's token is in 1..last_token() and no two are equal; the expiry
// index lists exactly the leases; at most kLocksMax leases. With PHALANX_INVARIANTS each
// operation checks the sizes and the lease it touched (the whole table would cost
// O(locks) per operation); restore() checks them all.
//
// Thread-safety: none (an Application is called from one thread at a time).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/lock/operation.h"
#include "phalanx/lock/reply.h"
#include "phalanx/pbft/types.h"

namespace phalanx::lock {

// A snapshot lists every lease (about 180 bytes each at most): 10,000 keep it under 2 MiB.
inline constexpr std::size_t kLocksMax = 10'000;

struct Lease {
  crypto::PublicKey owner;
  Token token = 0;
  pbft::UnixMillis until_ms = 0;

  bool operator==(const Lease&) const = default;
};

class LockTable {
 public:
  // Carries out `operation` for `client` at agreed time `now_ms`. One out of the limits of
  // operation.h is refused as Outcome::kMalformed.
  Reply apply(const Operation& operation, const crypto::PublicKey& client, pbft::UnixMillis now_ms);

  // The last token granted (0: none yet).
  Token last_token() const { return last_token_; }
  // Leases by lock name; some may have ended at a time no operation has reached yet.
  const std::map<std::string, Lease, std::less<>>& leases() const { return leases_; }

  // Deterministic bytes: equal tables give equal snapshots.
  Bytes snapshot() const;
  // Replaces the whole table; an Error (and the table unchanged) for bytes that are not
  // a snapshot of a table that keeps the invariants above.
  Status restore(ByteView snapshot);

 private:
  Reply acquire(const Acquire& op, const crypto::PublicKey& client, pbft::UnixMillis now_ms);
  Reply release(const Release& op, const crypto::PublicKey& client);
  Reply renew(const Renew& op, const crypto::PublicKey& client, pbft::UnixMillis now_ms);
  Reply query(const Query& op) const;
  // The refusal for a release or renewal by `client` with `token`, or nullopt when
  // `client` holds the lock with that token.
  std::optional<Reply> refuse_unless_holder(const std::string& name,
                                            const crypto::PublicKey& client, Token token) const;
  void forget_ended(pbft::UnixMillis now_ms);
  void set_until(const std::string& name, Lease& lease, pbft::UnixMillis until_ms);
  // What breaks the invariants above, or nullopt: a bug after an operation, bad bytes
  // after a restore. The first looks at the sizes and one lock only.
  std::optional<std::string> problem_around(const std::string& name) const;
  std::optional<std::string> invariant_problem() const;

  std::map<std::string, Lease, std::less<>> leases_;
  std::set<std::pair<pbft::UnixMillis, std::string>> by_until_;  // the leases, by end
  Token last_token_ = 0;
};

}  // namespace phalanx::lock
