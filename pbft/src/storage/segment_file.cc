#include "segment_file.h"

#include "data_dir.h"
#include "record_format.h"

namespace phalanx::storage {

Result<SegmentContents> read_segment(ByteView data, const std::string& path, std::uint64_t number,
                                     bool newest, std::uint64_t record_bytes_max) {
  SegmentContents contents;
  if (data.size() < kSegmentHeaderBytes) {
    // The header is written with the segment's first records and synced with them; a
    // crash before that sync leaves a prefix of it, which only the newest segment may be.
    if (newest && ByteView(encode_segment_header(number)).starts_with(data)) {
      contents.torn_header = true;
      return contents;
    }
    return corruption_error(
        path, "segment header", 0,
        "the file is " + std::to_string(data.size()) + " bytes, shorter than a segment header");
  }
  auto header_number = decode_segment_header(data);
  if (!header_number)
    return corruption_error(path, "segment header", 0, "bad magic, version or checksum");
  if (*header_number != number)
    return corruption_error(path, "segment header", 0,
                            "it says segment " + std::to_string(*header_number));

  for (std::uint64_t offset = kSegmentHeaderBytes; offset < data.size();) {
    ParsedRecord record = parse_record(data, offset, record_bytes_max);
    if (record.outcome == ParsedRecord::Outcome::kOk) {
      contents.records.push_back({record.type, std::make_shared<const Bytes>(record.payload)});
      offset += record.size;
      continue;
    }
    // A torn write is the last thing in the newest segment. A valid record after the bad
    // one means the bad one was written whole and damaged later.
    if (newest && !find_valid_record(data, offset + 1, record_bytes_max)) {
      contents.torn_offset = offset;
      return contents;
    }
    return corruption_error(path, "record", offset, describe(record.outcome));
  }
  return contents;
}

}  // namespace phalanx::storage
