#include "phalanx/examples/kv_application.h"

#include "phalanx/base/byte_io.h"

namespace phalanx::examples {

namespace {
constexpr char kPut = 'P';
constexpr char kGet = 'G';
constexpr char kDel = 'D';

Bytes encode_op(char code, std::string_view key, std::string_view value) {
  return ByteWriter().raw(std::string_view(&code, 1)).field(key).field(value).take();
}

Bytes result(bool ok, std::string_view value) {
  Bytes out(1, ok ? '+' : '-');
  out.append(value);
  return out;
}
}  // namespace

namespace kv {
Bytes put(std::string_view key, std::string_view value) { return encode_op(kPut, key, value); }
Bytes get(std::string_view key) { return encode_op(kGet, key, ""); }
Bytes del(std::string_view key) { return encode_op(kDel, key, ""); }

std::optional<Result> decode_result(ByteView bytes) {
  if (bytes.empty() || (bytes[0] != '+' && bytes[0] != '-')) return std::nullopt;
  return Result{bytes[0] == '+', std::string(bytes.substr(1))};
}
}  // namespace kv

Bytes KvApplication::execute(ByteView operation, const pbft::RequestContext&) {
  ++executed_count_;
  if (operation.empty()) return result(false, "bad operation");
  ByteReader reader(operation.substr(1));
  auto key = reader.field();
  auto value = reader.field();
  if (!key || !value || !reader.done()) return result(false, "bad operation");
  switch (operation[0]) {
    case kPut:
      entries_[std::string(*key)] = std::string(*value);
      return result(true, "");
    case kGet: {
      auto found = entries_.find(std::string(*key));
      if (found == entries_.end()) return result(false, "");
      return result(true, found->second);
    }
    case kDel:
      entries_.erase(std::string(*key));
      return result(true, "");
    default:
      return result(false, "bad operation");
  }
}

// Snapshot: executed count, entry count, then (key, value) pairs in key order. std::map
// iterates in order, so equal states give identical bytes.
Bytes KvApplication::snapshot() const {
  ByteWriter out;
  out.u64(executed_count_).u64(entries_.size());
  for (const auto& [key, value] : entries_) out.field(key).field(value);
  return out.take();
}

Status KvApplication::restore(ByteView snapshot) {
  ByteReader reader(snapshot);
  auto executed = reader.u64();
  auto count = reader.u64();
  if (!executed || !count) return Error{"kv snapshot: truncated header"};
  std::map<std::string, std::string> entries;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto key = reader.field();
    auto value = reader.field();
    if (!key || !value) return Error{"kv snapshot: truncated at entry " + std::to_string(i)};
    entries.emplace(std::string(*key), std::string(*value));
  }
  if (!reader.done()) return Error{"kv snapshot: trailing bytes"};
  entries_ = std::move(entries);
  executed_count_ = *executed;
  return ok_status();
}

}  // namespace phalanx::examples
