#include "phalanx/lock/operation.h"

#include "phalanx/base/byte_io.h"

namespace phalanx::lock {

namespace {

constexpr char kAcquire = 'A';
constexpr char kRelease = 'R';
constexpr char kRenew = 'N';
constexpr char kQuery = 'Q';

Status validate_lease(std::uint64_t lease_ms) {
  if (lease_ms < kLeaseMsMin || lease_ms > kLeaseMsMax)
    return Error{"lease of " + std::to_string(lease_ms) + " ms: it must be " +
                 std::to_string(kLeaseMsMin) + " to " + std::to_string(kLeaseMsMax) + " ms"};
  return ok_status();
}

ByteWriter& head(ByteWriter& out, char kind, const std::string& name) {
  char header[2] = {kind, static_cast<char>(name.size())};
  return out.raw(ByteView(header, 2)).raw(name);
}

struct Encoder {
  ByteWriter& out;
  void operator()(const Acquire& op) { head(out, kAcquire, op.name).u64(op.lease_ms); }
  void operator()(const Release& op) { head(out, kRelease, op.name).u64(op.token); }
  void operator()(const Renew& op) { head(out, kRenew, op.name).u64(op.token).u64(op.lease_ms); }
  void operator()(const Query& op) { head(out, kQuery, op.name); }
};

// The numbers after the name, by kind; nullopt when the bytes end early.
std::optional<Operation> decode_body(char kind, std::string name, ByteReader& reader) {
  switch (kind) {
    case kAcquire: {
      auto lease = reader.u64();
      if (!lease) return std::nullopt;
      return Acquire{std::move(name), *lease};
    }
    case kRelease: {
      auto token = reader.u64();
      if (!token) return std::nullopt;
      return Release{std::move(name), *token};
    }
    case kRenew: {
      auto token = reader.u64();
      auto lease = reader.u64();
      if (!token || !lease) return std::nullopt;
      return Renew{std::move(name), *token, *lease};
    }
    default:
      return Query{std::move(name)};
  }
}

Bytes must_encode(const Operation& operation) {
  auto encoded = encode(operation);
  PHALANX_ASSERT(encoded.ok(), "a lock operation shorthand was given a name or lease out of range");
  return std::move(encoded).value();
}

}  // namespace

const std::string& name_of(const Operation& operation) {
  return std::visit([](const auto& op) -> const std::string& { return op.name; }, operation);
}

Status validate(const Operation& operation) {
  const std::string& name = name_of(operation);
  if (name.empty()) return Error{"empty lock name"};
  if (name.size() > kNameBytesMax)
    return Error{"lock name of " + std::to_string(name.size()) + " bytes: at most " +
                 std::to_string(kNameBytesMax)};
  if (const auto* op = std::get_if<Acquire>(&operation)) return validate_lease(op->lease_ms);
  if (const auto* op = std::get_if<Renew>(&operation)) return validate_lease(op->lease_ms);
  return ok_status();
}

Result<Bytes> encode(const Operation& operation) {
  if (auto valid = validate(operation); !valid.ok()) return valid.error();
  ByteWriter out;
  std::visit(Encoder{out}, operation);
  return out.take();
}

Result<Operation> decode(ByteView bytes) {
  if (bytes.size() < 2) return Error{"operation of " + std::to_string(bytes.size()) + " bytes"};
  const char kind = bytes[0];
  if (kind != kAcquire && kind != kRelease && kind != kRenew && kind != kQuery)
    return Error{"unknown operation kind " + std::to_string(static_cast<unsigned char>(kind))};
  ByteReader reader(bytes.substr(2));
  auto name = reader.raw(static_cast<unsigned char>(bytes[1]));
  if (!name) return Error{"operation ends inside its name"};
  auto operation = decode_body(kind, std::string(*name), reader);
  if (!operation) return Error{"operation ends before its numbers"};
  if (!reader.done()) return Error{"operation with bytes after its end"};
  if (auto valid = validate(*operation); !valid.ok()) return valid.error();
  return std::move(*operation);
}

Bytes acquire(std::string_view name, std::uint64_t lease_ms) {
  return must_encode(Acquire{std::string(name), lease_ms});
}
Bytes release(std::string_view name, Token token) {
  return must_encode(Release{std::string(name), token});
}
Bytes renew(std::string_view name, Token token, std::uint64_t lease_ms) {
  return must_encode(Renew{std::string(name), token, lease_ms});
}
Bytes query(std::string_view name) {
  return must_encode(Query{std::string(name)});
}

}  // namespace phalanx::lock
