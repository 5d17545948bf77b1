#include "phalanx/lock/reply.h"

#include <chrono>
#include <cstdio>

#include "phalanx/base/byte_io.h"

namespace phalanx::lock {

namespace {

std::string who(const crypto::PublicKey& owner, const crypto::PublicKey* you) {
  return you != nullptr && *you == owner ? "you" : owner.short_hex();
}

std::string lease_text(const Reply& reply) {
  return "token " + std::to_string(reply.token) + " until " + format_utc(reply.until_ms);
}

}  // namespace

Bytes encode(const Reply& reply) {
  char outcome = static_cast<char>(reply.outcome);
  return ByteWriter()
      .raw(ByteView(&outcome, 1))
      .u64(reply.token)
      .u64(reply.until_ms)
      .raw(reply.owner.view())
      .field(reply.detail)
      .take();
}

Result<Reply> decode_reply(ByteView bytes) {
  if (bytes.empty()) return Error{"empty reply"};
  auto outcome = static_cast<std::uint8_t>(bytes[0]);
  if (outcome > static_cast<std::uint8_t>(Outcome::kMalformed))
    return Error{"reply with unknown outcome " + std::to_string(outcome)};
  ByteReader reader(bytes.substr(1));
  auto token = reader.u64();
  auto until_ms = reader.u64();
  auto owner = reader.raw(crypto::PublicKey::kSize);
  auto detail = reader.field();
  if (!token || !until_ms || !owner || !detail) return Error{"truncated reply"};
  if (!reader.done()) return Error{"reply with bytes after its end"};
  auto key = crypto::PublicKey::from_bytes(*owner);
  if (!key) return Error{"reply with a malformed owner key"};
  return Reply{static_cast<Outcome>(outcome), *token, *until_ms, *key, std::string(*detail)};
}

std::string describe(const Reply& reply, const crypto::PublicKey* you) {
  switch (reply.outcome) {
    case Outcome::kGranted:
      return "granted " + lease_text(reply);
    case Outcome::kRenewed:
      return "renewed " + lease_text(reply);
    case Outcome::kReleased:
      return "released token " + std::to_string(reply.token);
    case Outcome::kHeld:
      return "held by " + who(reply.owner, you) + " with " + lease_text(reply);
    case Outcome::kFree:
      return "free";
    case Outcome::kNotHolder:
      return "refused: not the holder (held by " + who(reply.owner, you) + " until " +
             format_utc(reply.until_ms) + ")";
    case Outcome::kNotHeld:
      return "refused: not held (never taken, released, or its lease ended)";
    case Outcome::kStaleToken:
      return "refused: you hold it with token " + std::to_string(reply.token) +
             ", not the one given";
    case Outcome::kTooManyLocks:
    case Outcome::kNoTime:
    case Outcome::kMalformed:
      return "refused: " + reply.detail;
  }
  return "refused: unknown outcome";
}

std::string format_utc(pbft::UnixMillis unix_ms) {
  using namespace std::chrono;
  // Four-digit years only (9999-12-31T23:59:59.999Z); beyond, the number as it is.
  constexpr pbft::UnixMillis kLastFormatted = 253'402'300'799'999;
  if (unix_ms > kLastFormatted) return "unix ms " + std::to_string(unix_ms);
  const sys_time<milliseconds> time{milliseconds{unix_ms}};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char text[40];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

}  // namespace phalanx::lock
