#pragma once
// The operations of the lock service and their encoding (README.md here).
//
//   acquire(name, lease_ms)         take the lock for lease_ms of agreed time
//   release(name, token)            give it back (only its holder, with its token)
//   renew(name, token, lease_ms)    extend a lease that has not ended, same token
//   query(name)                     who holds it, with which token, until when
//
// Encoding, compact and fixed: one kind byte ('A', 'R', 'N', 'Q'), the name's length in
// one byte, the name, then the numbers as little-endian u64 in the order above. Acquire
// "x" for 30 s is 11 bytes. An operation comes from a client, so a decoder never trusts
// it: decode() returns every flaw as an Error, never asserts.
//
// Thread-safety: pure functions of their arguments.
#include <cstdint>
#include <string>
#include <variant>

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"

namespace phalanx::lock {

// A fencing token: the lock service's grant counter, global to all locks.
using Token = std::uint64_t;

// Limits: a name fits the one-byte length of the encoding with room to spare, and a
// lease of more than a day is a lock that was forgotten, not a lease.
inline constexpr std::size_t kNameBytesMax = 128;
inline constexpr std::uint64_t kLeaseMsMin = 1;
inline constexpr std::uint64_t kLeaseMsMax = 24 * 60 * 60 * 1000;

struct Acquire {
  std::string name;
  std::uint64_t lease_ms = 0;
  bool operator==(const Acquire&) const = default;
};
struct Release {
  std::string name;
  Token token = 0;
  bool operator==(const Release&) const = default;
};
struct Renew {
  std::string name;
  Token token = 0;
  std::uint64_t lease_ms = 0;
  bool operator==(const Renew&) const = default;
};
struct Query {
  std::string name;
  bool operator==(const Query&) const = default;
};
using Operation = std::variant<Acquire, Release, Renew, Query>;

// The lock an operation is about.
const std::string& name_of(const Operation& operation);

// Whether `operation` is within the limits above (name 1..kNameBytesMax bytes, lease in
// [kLeaseMsMin, kLeaseMsMax]); the error says which limit and by how much.
Status validate(const Operation& operation);

// The bytes a client submits; an Error (from validate) for an operation the service
// would refuse anyway, so that a command line can say so before sending anything.
Result<Bytes> encode(const Operation& operation);
Result<Operation> decode(ByteView bytes);

// Shorthands for operations fixed in a program (tests); they assert it is valid.
Bytes acquire(std::string_view name, std::uint64_t lease_ms);
Bytes release(std::string_view name, Token token);
Bytes renew(std::string_view name, Token token, std::uint64_t lease_ms);
Bytes query(std::string_view name);

}  // namespace phalanx::lock
