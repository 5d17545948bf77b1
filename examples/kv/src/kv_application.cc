#include "phalanx/examples/kv_application.h"

#include <cstring>

namespace phalanx::examples {

namespace {
constexpr char kPut = 'P';
constexpr char kGet = 'G';
constexpr char kDel = 'D';

void append_u32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}
void append_u64(Bytes& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// Reads length-prefixed fields from a byte string; fails (returns nullopt) on truncation.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  std::optional<std::uint64_t> u64(int width) {
    if (data_.size() < static_cast<std::size_t>(width)) return std::nullopt;
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i)
      value |= std::uint64_t{static_cast<unsigned char>(data_[i])} << (8 * i);
    data_.remove_prefix(width);
    return value;
  }
  std::optional<std::string> field() {
    auto size = u64(4);
    if (!size || data_.size() < *size) return std::nullopt;
    std::string out(data_.substr(0, *size));
    data_.remove_prefix(*size);
    return out;
  }
  bool done() const { return data_.empty(); }

 private:
  ByteView data_;
};

Bytes encode_op(char code, std::string_view key, std::string_view value) {
  Bytes out(1, code);
  append_u32(out, static_cast<std::uint32_t>(key.size()));
  out.append(key);
  append_u32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
  return out;
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
  Reader reader(operation.substr(1));
  auto key = reader.field();
  auto value = reader.field();
  if (!key || !value || !reader.done()) return result(false, "bad operation");
  switch (operation[0]) {
    case kPut:
      entries_[*key] = *value;
      return result(true, "");
    case kGet: {
      auto found = entries_.find(*key);
      if (found == entries_.end()) return result(false, "");
      return result(true, found->second);
    }
    case kDel:
      entries_.erase(*key);
      return result(true, "");
    default:
      return result(false, "bad operation");
  }
}

// Snapshot: executed count, entry count, then (key, value) pairs in key order. std::map
// iterates in order, so equal states give identical bytes.
Bytes KvApplication::snapshot() const {
  Bytes out;
  append_u64(out, executed_count_);
  append_u64(out, entries_.size());
  for (const auto& [key, value] : entries_) {
    append_u32(out, static_cast<std::uint32_t>(key.size()));
    out.append(key);
    append_u32(out, static_cast<std::uint32_t>(value.size()));
    out.append(value);
  }
  return out;
}

Status KvApplication::restore(ByteView snapshot) {
  Reader reader(snapshot);
  auto executed = reader.u64(8);
  auto count = reader.u64(8);
  if (!executed || !count) return Error{"kv snapshot: truncated header"};
  std::map<std::string, std::string> entries;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto key = reader.field();
    auto value = reader.field();
    if (!key || !value) return Error{"kv snapshot: truncated at entry " + std::to_string(i)};
    entries.emplace(std::move(*key), std::move(*value));
  }
  if (!reader.done()) return Error{"kv snapshot: trailing bytes"};
  entries_ = std::move(entries);
  executed_count_ = *executed;
  return ok_status();
}

}  // namespace phalanx::examples
