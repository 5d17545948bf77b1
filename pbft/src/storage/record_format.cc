#include "record_format.h"

#include "phalanx/base/assert.h"
#include "phalanx/base/byte_io.h"
#include "phalanx/crypto/checksum.h"

namespace phalanx::storage {

namespace {

constexpr std::string_view kSegmentMagic{"PHXLOG\0\0", 8};

void put_le(char* out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

std::uint32_t read_u32(ByteView data, std::uint64_t offset) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= std::uint32_t{static_cast<unsigned char>(data[offset + i])} << (8 * i);
  return value;
}

std::uint64_t read_u64(ByteView data, std::uint64_t offset) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value |= std::uint64_t{static_cast<unsigned char>(data[offset + i])} << (8 * i);
  return value;
}

// The checksum covers the length and the type (the first 5 header bytes) and the payload.
std::uint64_t record_checksum(ByteView length_and_type, ByteView payload) {
  return crypto::Checksum64().update(length_and_type).update(payload).finish();
}

// Everything but the checksum: cheap, so that find_valid_record can call it at every offset.
bool plausible_header(ByteView data, std::uint64_t offset, std::uint64_t record_bytes_max,
                      ParsedRecord& out) {
  auto type = static_cast<std::uint8_t>(data[offset + 4]);
  if (data[offset + 5] != 0 || data[offset + 6] != 0 || data[offset + 7] != 0 ||
      !pbft::is_known_record_type(type) || read_u32(data, offset) > record_bytes_max) {
    out.outcome = ParsedRecord::Outcome::kBadHeader;
    return false;
  }
  out.type = static_cast<pbft::DurableRecord::Type>(type);
  return true;
}

}  // namespace

void append_record(Bytes& out, pbft::DurableRecord::Type type, ByteView payload) {
  PHALANX_ASSERT(payload.size() <= kRecordBytesLimit, "record payload exceeds the u32 length");
  PHALANX_ASSERT(pbft::is_known_record_type(static_cast<std::uint8_t>(type)),
                 "unknown record type");
  char header[kRecordHeaderBytes] = {};
  put_le(header, payload.size(), 4);
  header[4] = static_cast<char>(type);
  put_le(header + 8, record_checksum(ByteView(header, 5), payload), 8);
  out.append(header, kRecordHeaderBytes);
  out.append(payload);
}

ParsedRecord parse_record(ByteView data, std::uint64_t offset, std::uint64_t record_bytes_max) {
  ParsedRecord out;
  if (offset > data.size() || data.size() - offset < kRecordHeaderBytes) {
    out.outcome = ParsedRecord::Outcome::kShort;
    return out;
  }
  if (!plausible_header(data, offset, record_bytes_max, out)) return out;
  std::uint64_t length = read_u32(data, offset);
  if (data.size() - offset - kRecordHeaderBytes < length) {
    out.outcome = ParsedRecord::Outcome::kShort;
    return out;
  }
  ByteView payload = data.substr(offset + kRecordHeaderBytes, length);
  if (record_checksum(data.substr(offset, 5), payload) != read_u64(data, offset + 8)) {
    out.outcome = ParsedRecord::Outcome::kChecksumMismatch;
    return out;
  }
  out.payload = payload;
  out.size = framed_size(length);
  return out;
}

std::string_view describe(ParsedRecord::Outcome outcome) {
  switch (outcome) {
    case ParsedRecord::Outcome::kOk:
      return "valid record";
    case ParsedRecord::Outcome::kShort:
      return "record cut short";
    case ParsedRecord::Outcome::kBadHeader:
      return "bad record header";
    case ParsedRecord::Outcome::kChecksumMismatch:
      return "checksum mismatch";
  }
  return "unknown";
}

std::optional<std::uint64_t> find_valid_record(ByteView data, std::uint64_t from,
                                               std::uint64_t record_bytes_max) {
  ParsedRecord scratch;
  for (std::uint64_t offset = from; offset + kRecordHeaderBytes <= data.size(); ++offset) {
    if (!plausible_header(data, offset, record_bytes_max, scratch)) continue;
    if (data.size() - offset - kRecordHeaderBytes < read_u32(data, offset)) continue;
    if (parse_record(data, offset, record_bytes_max).outcome == ParsedRecord::Outcome::kOk)
      return offset;
  }
  return std::nullopt;
}

Bytes encode_segment_header(std::uint64_t segment_number) {
  Bytes header =
      ByteWriter().raw(kSegmentMagic).u32(kFormatVersion).u32(0).u64(segment_number).take();
  std::uint64_t checksum = crypto::checksum64(header);
  header.append(ByteWriter().u64(checksum).take());
  PHALANX_ASSERT(header.size() == kSegmentHeaderBytes, "segment header size");
  return header;
}

std::optional<std::uint64_t> decode_segment_header(ByteView data) {
  if (data.size() < kSegmentHeaderBytes) return std::nullopt;
  if (data.substr(0, kSegmentMagic.size()) != kSegmentMagic) return std::nullopt;
  if (read_u32(data, 8) != kFormatVersion || read_u32(data, 12) != 0) return std::nullopt;
  if (crypto::checksum64(data.substr(0, 24)) != read_u64(data, 24)) return std::nullopt;
  return read_u64(data, 16);
}

}  // namespace phalanx::storage
