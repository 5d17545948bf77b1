#include "phalanx/lock/lock_table.h"

#include <limits>

#include "phalanx/base/byte_io.h"

namespace phalanx::lock {

namespace {

constexpr std::uint32_t kSnapshotVersion = 1;

Reply plain(Outcome outcome, std::string detail = {}) {
  Reply reply;
  reply.outcome = outcome;
  reply.detail = std::move(detail);
  return reply;
}

Reply about(Outcome outcome, const Lease& lease) {
  Reply reply;
  reply.outcome = outcome;
  reply.token = lease.token;
  reply.until_ms = lease.until_ms;
  reply.owner = lease.owner;
  return reply;
}

// now + lease, saturated: an agreed time near the top of the range must not wrap round
// into a lease that has already ended.
pbft::UnixMillis end_of_lease(pbft::UnixMillis now_ms, std::uint64_t lease_ms) {
  constexpr auto kLast = std::numeric_limits<pbft::UnixMillis>::max();
  return now_ms > kLast - lease_ms ? kLast : now_ms + lease_ms;
}

}  // namespace

Reply LockTable::apply(const Operation& operation, const crypto::PublicKey& client,
                       pbft::UnixMillis now_ms) {
  if (now_ms == 0)
    return plain(Outcome::kNoTime,
                 "the cluster runs without batch times, so no lease could ever end "
                 "(set batch_time_skew_max_ms in the cluster file)");
  // decode() checked this already; a table used on its own must not take a name that its
  // snapshot could not restore.
  if (auto valid = validate(operation); !valid.ok())
    return plain(Outcome::kMalformed, "malformed operation: " + valid.error().message);
  forget_ended(now_ms);
  Reply reply;
  if (const auto* acquire_op = std::get_if<Acquire>(&operation)) {
    reply = acquire(*acquire_op, client, now_ms);
  } else if (const auto* release_op = std::get_if<Release>(&operation)) {
    reply = release(*release_op, client);
  } else if (const auto* renew_op = std::get_if<Renew>(&operation)) {
    reply = renew(*renew_op, client, now_ms);
  } else {
    reply = query(std::get<Query>(operation));
  }
  if (PHALANX_INVARIANTS_ENABLED) {
    auto problem = problem_around(name_of(operation));
    PHALANX_ASSERT(!problem, problem->c_str());
  }
  return reply;
}

Reply LockTable::acquire(const Acquire& op, const crypto::PublicKey& client,
                         pbft::UnixMillis now_ms) {
  if (auto found = leases_.find(op.name); found != leases_.end())
    return about(Outcome::kHeld, found->second);
  if (leases_.size() >= kLocksMax)
    return plain(Outcome::kTooManyLocks, std::to_string(kLocksMax) +
                                             " locks are held, the most the service keeps; "
                                             "try again when one is released or ends");
  PHALANX_ASSERT(last_token_ < std::numeric_limits<Token>::max(), "fencing tokens ran out");
  Lease lease{client, ++last_token_, end_of_lease(now_ms, op.lease_ms)};
  leases_.emplace(op.name, lease);
  by_until_.emplace(lease.until_ms, op.name);
  return about(Outcome::kGranted, lease);
}

Reply LockTable::release(const Release& op, const crypto::PublicKey& client) {
  if (auto refusal = refuse_unless_holder(op.name, client, op.token)) return *refusal;
  auto found = leases_.find(op.name);
  Reply reply = about(Outcome::kReleased, found->second);
  by_until_.erase({found->second.until_ms, found->first});
  leases_.erase(found);
  return reply;
}

Reply LockTable::renew(const Renew& op, const crypto::PublicKey& client, pbft::UnixMillis now_ms) {
  if (auto refusal = refuse_unless_holder(op.name, client, op.token)) return *refusal;
  auto found = leases_.find(op.name);
  set_until(found->first, found->second, end_of_lease(now_ms, op.lease_ms));
  return about(Outcome::kRenewed, found->second);
}

Reply LockTable::query(const Query& op) const {
  auto found = leases_.find(op.name);
  if (found == leases_.end()) return plain(Outcome::kFree);
  return about(Outcome::kHeld, found->second);
}

std::optional<Reply> LockTable::refuse_unless_holder(const std::string& name,
                                                     const crypto::PublicKey& client,
                                                     Token token) const {
  auto found = leases_.find(name);
  if (found == leases_.end()) return plain(Outcome::kNotHeld);
  const Lease& lease = found->second;
  if (lease.owner != client) return about(Outcome::kNotHolder, lease);
  // The holder's own token is no secret to the holder: a client that took the lock
  // again after losing it learns which grant is current.
  if (lease.token != token) return about(Outcome::kStaleToken, lease);
  return std::nullopt;
}

// Leases end by agreed time alone: the first operation whose batch time reaches a
// lease's end finds the lock free, at every replica alike.
void LockTable::forget_ended(pbft::UnixMillis now_ms) {
  while (!by_until_.empty() && by_until_.begin()->first <= now_ms) {
    leases_.erase(by_until_.begin()->second);
    by_until_.erase(by_until_.begin());
  }
}

void LockTable::set_until(const std::string& name, Lease& lease, pbft::UnixMillis until_ms) {
  by_until_.erase({lease.until_ms, name});
  lease.until_ms = until_ms;
  by_until_.emplace(until_ms, name);
}

std::optional<std::string> LockTable::problem_around(const std::string& name) const {
  if (leases_.size() > kLocksMax) return "more than kLocksMax leases";
  if (by_until_.size() != leases_.size()) return "the expiry index and the leases differ";
  auto found = leases_.find(name);
  if (found == leases_.end()) return std::nullopt;
  const Lease& lease = found->second;
  if (lease.token == 0 || lease.token > last_token_)
    return "lease '" + name + "' with token " + std::to_string(lease.token) + " outside 1.." +
           std::to_string(last_token_);
  if (by_until_.count({lease.until_ms, name}) == 0)
    return "lease '" + name + "' missing from the expiry index";
  return std::nullopt;
}

std::optional<std::string> LockTable::invariant_problem() const {
  std::set<Token> tokens;
  for (const auto& [name, lease] : leases_) {
    if (auto problem = problem_around(name)) return problem;
    if (!tokens.insert(lease.token).second)
      return "two leases with token " + std::to_string(lease.token);
  }
  return problem_around("");
}

// Snapshot: version, last token, lease count, then each lease in name order (name,
// owner, token, until_ms). std::map iterates in order, so equal tables give equal bytes.
Bytes LockTable::snapshot() const {
  ByteWriter out;
  out.u32(kSnapshotVersion).u64(last_token_).u32(static_cast<std::uint32_t>(leases_.size()));
  for (const auto& [name, lease] : leases_)
    out.field(name).raw(lease.owner.view()).u64(lease.token).u64(lease.until_ms);
  return out.take();
}

Status LockTable::restore(ByteView snapshot) {
  ByteReader reader(snapshot);
  auto version = reader.u32();
  auto last_token = reader.u64();
  auto count = reader.u32();
  if (!version || !last_token || !count) return Error{"lock snapshot: truncated header"};
  if (*version != kSnapshotVersion)
    return Error{"lock snapshot: version " + std::to_string(*version) + ", expected " +
                 std::to_string(kSnapshotVersion)};
  if (*count > kLocksMax)
    return Error{"lock snapshot: " + std::to_string(*count) + " leases, at most " +
                 std::to_string(kLocksMax)};
  LockTable table;
  table.last_token_ = *last_token;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto name = reader.field();
    auto owner = reader.raw(crypto::PublicKey::kSize);
    auto token = reader.u64();
    auto until_ms = reader.u64();
    if (!name || !owner || !token || !until_ms)
      return Error{"lock snapshot: truncated at lease " + std::to_string(i)};
    std::string text(*name);
    if (auto valid = validate(Query{text}); !valid.ok())
      return Error{"lock snapshot: lease " + std::to_string(i) + ": " + valid.error().message};
    if (!table.leases_.empty() && table.leases_.rbegin()->first >= text)
      return Error{"lock snapshot: lease " + std::to_string(i) + " out of name order"};
    auto key = crypto::PublicKey::from_bytes(*owner);
    if (!key) return Error{"lock snapshot: lease " + std::to_string(i) + " with a bad owner"};
    table.leases_.emplace(text, Lease{*key, *token, *until_ms});
    table.by_until_.emplace(*until_ms, std::move(text));
  }
  if (!reader.done()) return Error{"lock snapshot: trailing bytes"};
  if (auto problem = table.invariant_problem()) return Error{"lock snapshot: " + *problem};
  *this = std::move(table);
  return ok_status();
}

}  // namespace phalanx::lock
