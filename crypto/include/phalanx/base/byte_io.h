#pragma once
// Little-endian, length-prefixed encoding for the few formats that are not protobuf
// because they must be byte-for-byte deterministic (snapshots, checkpoint state: equal
// states must give equal bytes, which protobuf does not promise).
// ByteReader never reads past its input: every read returns nullopt on truncation.

#include <cstdint>
#include <optional>

#include "phalanx/base/bytes.h"

namespace phalanx {

class ByteWriter {
 public:
  ByteWriter& u32(std::uint32_t value) { return fixed(value, 4); }
  ByteWriter& u64(std::uint64_t value) { return fixed(value, 8); }
  ByteWriter& raw(ByteView data) {
    out_.append(data);
    return *this;
  }
  // u32 length, then the bytes.
  ByteWriter& field(ByteView data) {
    u32(static_cast<std::uint32_t>(data.size()));
    return raw(data);
  }
  // u64 length, then the bytes (for fields that may exceed 4 GiB).
  ByteWriter& large_field(ByteView data) {
    u64(data.size());
    return raw(data);
  }
  Bytes take() { return std::move(out_); }

 private:
  ByteWriter& fixed(std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<char>(value >> (8 * i)));
    return *this;
  }
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}
  std::optional<std::uint32_t> u32() {
    auto value = fixed(4);
    if (!value) return std::nullopt;
    return static_cast<std::uint32_t>(*value);
  }
  std::optional<std::uint64_t> u64() { return fixed(8); }
  std::optional<ByteView> raw(std::uint64_t size) {
    if (data_.size() < size) return std::nullopt;
    ByteView out = data_.substr(0, size);
    data_.remove_prefix(size);
    return out;
  }
  std::optional<ByteView> field() {
    auto size = u32();
    if (!size) return std::nullopt;
    return raw(*size);
  }
  std::optional<ByteView> large_field() {
    auto size = u64();
    if (!size) return std::nullopt;
    return raw(*size);
  }
  bool done() const { return data_.empty(); }

 private:
  std::optional<std::uint64_t> fixed(int width) {
    if (data_.size() < static_cast<std::size_t>(width)) return std::nullopt;
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i)
      value |= std::uint64_t{static_cast<unsigned char>(data_[i])} << (8 * i);
    data_.remove_prefix(width);
    return value;
  }
  ByteView data_;
};

}  // namespace phalanx
