#pragma once
// The byte formats shared by segment and snapshot files: a framed record, and a segment
// file's header. All integers are little-endian.
//
// Record: [u32 length][u8 type][3 zero bytes][u64 checksum][payload: length bytes]
//   checksum = checksum64(length as u32, type as u8, payload)   (crypto/checksum.h)
// Segment header (kSegmentHeaderBytes):
//   [8 bytes "PHXLOG\0\0"][u32 format version][u32 zero][u64 segment number]
//   [u64 checksum64 of the 24 bytes before it]
//
// Parsing never trusts the bytes: a record is accepted only if its header is plausible
// (known type, zero padding, a length within the limit and within the data) and its
// checksum matches. Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string_view>

#include "phalanx/base/bytes.h"
#include "phalanx/pbft/durable.h"

namespace phalanx::storage {

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kRecordHeaderBytes = 16;
inline constexpr std::size_t kSegmentHeaderBytes = 32;
inline constexpr std::uint64_t kRecordBytesLimit = 0xffff'ffff;  // what a u32 length holds

// Appends `payload` framed as a record of `type` to `out`.
void append_record(Bytes& out, pbft::DurableRecord::Type type, ByteView payload);
inline std::uint64_t framed_size(std::uint64_t payload_bytes) {
  return kRecordHeaderBytes + payload_bytes;
}

struct ParsedRecord {
  enum class Outcome {
    kOk,
    kShort,             // the data ends inside the header or the payload
    kBadHeader,         // unknown type, non-zero padding or length above the limit
    kChecksumMismatch,  // a plausible header whose checksum does not match
  };
  Outcome outcome = Outcome::kOk;
  pbft::DurableRecord::Type type = pbft::DurableRecord::Type::kSigned;
  ByteView payload;        // valid when outcome == kOk
  std::uint64_t size = 0;  // framed size, valid when outcome == kOk
};

// Parses the record that starts at `offset` of `data`.
ParsedRecord parse_record(ByteView data, std::uint64_t offset, std::uint64_t record_bytes_max);
// A few words for an error message: "checksum mismatch", "truncated record", ...
std::string_view describe(ParsedRecord::Outcome outcome);

// The offset of the first valid record that starts at or after `from`, if any. Cheap on
// garbage: the checksum is computed only where the header is plausible.
std::optional<std::uint64_t> find_valid_record(ByteView data, std::uint64_t from,
                                               std::uint64_t record_bytes_max);

Bytes encode_segment_header(std::uint64_t segment_number);
// The segment number the header holds, or nullopt if `data` does not start with a valid
// header (short, wrong magic or version, checksum mismatch).
std::optional<std::uint64_t> decode_segment_header(ByteView data);

}  // namespace phalanx::storage
