#include "snapshot_file.h"

#include "data_dir.h"
#include "phalanx/base/byte_io.h"
#include "phalanx/crypto/checksum.h"
#include "record_format.h"

namespace phalanx::storage {

namespace {

constexpr std::string_view kSnapshotMagic{"PHXSNAP\0", 8};

ByteView view_of(const pbft::SharedBytes& bytes) {
  return bytes ? ByteView(*bytes) : ByteView();
}

Bytes encode_records(const std::vector<pbft::DurableRecord>& records) {
  Bytes out;
  for (const auto& record : records) append_record(out, record.type, view_of(record.bytes));
  return out;
}

struct Header {
  std::uint64_t seq = 0;
  crypto::Digest digest;
  std::uint64_t first_segment = 0;
  std::uint64_t state_bytes = 0;
  std::uint64_t proof_bytes = 0;
  std::uint64_t record_count = 0;
  std::uint64_t record_bytes = 0;
};

Bytes encode_header(const Header& header) {
  Bytes out = ByteWriter()
                  .raw(kSnapshotMagic)
                  .u32(kFormatVersion)
                  .u32(0)
                  .u64(header.seq)
                  .raw(header.digest.view())
                  .u64(header.first_segment)
                  .u64(header.state_bytes)
                  .u64(header.proof_bytes)
                  .u64(header.record_count)
                  .u64(header.record_bytes)
                  .take();
  std::uint64_t checksum = crypto::checksum64(out);
  out.append(ByteWriter().u64(checksum).take());
  PHALANX_ASSERT(out.size() == kSnapshotHeaderBytes, "snapshot header size");
  return out;
}

// The header, or why it is not one. `data` holds at least kSnapshotHeaderBytes.
Result<Header> decode_header(ByteView data) {
  ByteReader reader(data.substr(0, kSnapshotHeaderBytes));
  if (*reader.raw(kSnapshotMagic.size()) != kSnapshotMagic) return Error{"bad magic"};
  std::uint32_t version = *reader.u32();
  if (version != kFormatVersion)
    return Error{"format version " + std::to_string(version) + ", expected " +
                 std::to_string(kFormatVersion)};
  if (*reader.u32() != 0) return Error{"non-zero reserved bytes"};
  Header header;
  header.seq = *reader.u64();
  header.digest = *crypto::Digest::from_bytes(*reader.raw(crypto::Digest::kSize));
  header.first_segment = *reader.u64();
  header.state_bytes = *reader.u64();
  header.proof_bytes = *reader.u64();
  header.record_count = *reader.u64();
  header.record_bytes = *reader.u64();
  std::uint64_t checksum = *reader.u64();
  if (crypto::checksum64(data.substr(0, kSnapshotHeaderBytes - 8)) != checksum)
    return Error{"header checksum mismatch"};
  return header;
}

}  // namespace

Result<std::uint64_t> write_snapshot_file(FileSystem& file_system, const std::string& path,
                                          const pbft::Snapshot& snapshot,
                                          std::uint64_t first_segment, std::uint64_t& syncs) {
  Bytes records = encode_records(snapshot.records);
  Header header{.seq = snapshot.seq,
                .digest = snapshot.digest,
                .first_segment = first_segment,
                .state_bytes = view_of(snapshot.state).size(),
                .proof_bytes = view_of(snapshot.proof).size(),
                .record_count = snapshot.records.size(),
                .record_bytes = records.size()};
  auto opened = file_system.open_append(path);
  if (!opened) return opened.error();
  AppendFile& file = *opened.value();
  PHALANX_ASSERT(file.size() == 0, "write_snapshot_file: the file already exists");
  // Each piece goes to the file and through the checksum as it is: the state (maybe
  // hundreds of MiB) is never copied.
  Bytes header_bytes = encode_header(header);
  crypto::Checksum64 checksum;
  for (ByteView piece : {ByteView(header_bytes), view_of(snapshot.state), view_of(snapshot.proof),
                         ByteView(records)}) {
    checksum.update(piece);
    if (auto written = file.append(piece); !written) return written.error();
  }
  if (auto written = file.append(ByteWriter().u64(checksum.finish()).take()); !written)
    return written.error();
  ++syncs;
  if (auto synced = file.sync(); !synced) return synced.error();
  return file.size();
}

Result<LoadedSnapshot> read_snapshot_file(FileSystem& file_system, const std::string& path,
                                          std::uint64_t seq, std::uint64_t record_bytes_max) {
  auto read = file_system.read_file(path);
  if (!read) return read.error();
  ByteView data = read.value();
  auto corrupt = [&](std::string_view what, std::uint64_t offset, const std::string& why) {
    return corruption_error(path, what, offset, why);
  };
  if (data.size() < kSnapshotHeaderBytes + kSnapshotTrailerBytes)
    return corrupt("snapshot header", 0,
                   "the file is " + std::to_string(data.size()) + " bytes, too short");
  auto header = decode_header(data);
  if (!header) return corrupt("snapshot header", 0, header.error().message);
  if (header.value().seq != seq)
    return corrupt("snapshot header", 0,
                   "it holds seq " + std::to_string(header.value().seq) + ", its name says " +
                       std::to_string(seq));
  const Header& fields = header.value();
  // Sizes as the header states them, each bounded by the file so the sum cannot overflow.
  std::uint64_t body_bytes = data.size() - kSnapshotHeaderBytes - kSnapshotTrailerBytes;
  if (fields.state_bytes > body_bytes || fields.proof_bytes > body_bytes ||
      fields.record_bytes > body_bytes ||
      fields.state_bytes + fields.proof_bytes + fields.record_bytes != body_bytes)
    return corrupt("snapshot header", 0,
                   "the sizes it states do not add up to the file's " +
                       std::to_string(data.size()) + " bytes");

  std::uint64_t state_offset = kSnapshotHeaderBytes;
  std::uint64_t records_offset = state_offset + fields.state_bytes + fields.proof_bytes;
  std::uint64_t trailer_offset = data.size() - kSnapshotTrailerBytes;
  ByteView record_area = data.substr(0, trailer_offset);
  LoadedSnapshot loaded;
  for (std::uint64_t offset = records_offset; offset < trailer_offset;) {
    ParsedRecord record = parse_record(record_area, offset, record_bytes_max);
    if (record.outcome != ParsedRecord::Outcome::kOk)
      return corrupt("record", offset, std::string(describe(record.outcome)));
    loaded.snapshot.records.push_back({record.type, std::make_shared<const Bytes>(record.payload)});
    offset += record.size;
  }
  if (loaded.snapshot.records.size() != fields.record_count)
    return corrupt("snapshot header", 0,
                   "it states " + std::to_string(fields.record_count) +
                       " records, the file holds " +
                       std::to_string(loaded.snapshot.records.size()));
  if (crypto::checksum64(data.substr(0, trailer_offset)) !=
      *ByteReader(data.substr(trailer_offset)).u64())
    return corrupt("snapshot", state_offset,
                   "the state and proof bytes [" + std::to_string(state_offset) + ", " +
                       std::to_string(records_offset) + ") or the file checksum at offset " +
                       std::to_string(trailer_offset) + " fail the file checksum");

  loaded.snapshot.seq = fields.seq;
  loaded.snapshot.digest = fields.digest;
  loaded.snapshot.state =
      std::make_shared<const Bytes>(data.substr(state_offset, fields.state_bytes));
  loaded.snapshot.proof = std::make_shared<const Bytes>(
      data.substr(state_offset + fields.state_bytes, fields.proof_bytes));
  loaded.first_segment = fields.first_segment;
  loaded.size_bytes = data.size();
  return loaded;
}

}  // namespace phalanx::storage
