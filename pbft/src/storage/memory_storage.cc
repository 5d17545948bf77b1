// MemoryStorage: the durable state kept as values (storage.h). Records share their bytes
// with the caller (SharedBytes are immutable), so keeping them costs only the vectors.
#include "phalanx/storage/storage.h"

namespace phalanx::storage {

namespace {
std::uint64_t size_of(const pbft::SharedBytes& bytes) {
  return bytes ? bytes->size() : 0;
}
}  // namespace

Result<pbft::DurableState> MemoryStorage::load() {
  return state_;
}

Status MemoryStorage::append(const std::vector<pbft::DurableRecord>& records) {
  if (records.empty()) return ok_status();
  for (const auto& record : records) {
    state_.records.push_back(record);
    stats_.bytes += size_of(record.bytes);
  }
  ++stats_.appends;
  stats_.records += records.size();
  ++stats_.syncs;
  return ok_status();
}

Status MemoryStorage::save_snapshot(const pbft::Snapshot& snapshot) {
  // The same shape load() gives back from a LogStorage: the snapshot's records first, in
  // DurableState::records, and none left in the snapshot itself.
  pbft::Snapshot kept = snapshot;
  state_.records = std::move(kept.records);
  kept.records.clear();
  state_.snapshot = std::move(kept);
  ++stats_.snapshots;
  ++stats_.syncs;
  stats_.snapshot_bytes = size_of(snapshot.state) + size_of(snapshot.proof);
  for (const auto& record : snapshot.records) stats_.snapshot_bytes += size_of(record.bytes);
  return ok_status();
}

void MemoryStorage::wipe() {
  state_ = pbft::DurableState{};
}

}  // namespace phalanx::storage
