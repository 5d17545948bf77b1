#include "core/client_table.h"

#include "phalanx/base/byte_io.h"

namespace phalanx::pbft::core {

const ClientEntry* ClientTable::find(const crypto::PublicKey& client) const {
  auto found = entries_.find(client);
  return found == entries_.end() ? nullptr : &found->second;
}

ClientEntry* ClientTable::find(const crypto::PublicKey& client) {
  auto found = entries_.find(client);
  return found == entries_.end() ? nullptr : &found->second;
}

ClientEntry& ClientTable::record(const crypto::PublicKey& client, RequestId request_id, Seq seq,
                                 Bytes result) {
  auto [it, inserted] = entries_.try_emplace(client);
  if (!inserted) {
    PHALANX_ASSERT(request_id > it->second.last_request_id, "client table going backwards");
    by_age_.erase({it->second.seq, client});
  }
  it->second = ClientEntry{request_id, seq, std::move(result), nullptr};
  by_age_.insert({seq, client});
  if (entries_.size() > capacity_) {
    auto oldest = by_age_.begin();
    PHALANX_ASSERT(oldest->second != client, "evicting the client just recorded");
    entries_.erase(oldest->second);
    by_age_.erase(oldest);
  }
  return entries_.at(client);
}

Bytes ClientTable::serialize() const {
  ByteWriter out;
  out.u64(entries_.size());
  for (const auto& [client, entry] : entries_)
    out.raw(client.view()).u64(entry.last_request_id).u64(entry.seq).field(entry.result);
  return out.take();
}

Status ClientTable::restore(ByteView bytes) {
  ByteReader in(bytes);
  auto count = in.u64();
  if (!count) return Error{"client table: truncated"};
  std::map<crypto::PublicKey, ClientEntry> entries;
  std::set<std::pair<Seq, crypto::PublicKey>> by_age;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto key = in.raw(crypto::PublicKey::kSize);
    auto request_id = in.u64();
    auto seq = in.u64();
    auto result = in.field();
    if (!key || !request_id || !seq || !result)
      return Error{"client table: truncated at entry " + std::to_string(i)};
    auto client = *crypto::PublicKey::from_bytes(*key);
    entries[client] = ClientEntry{*request_id, *seq, Bytes(*result), nullptr};
    by_age.insert({*seq, client});
  }
  if (!in.done()) return Error{"client table: trailing bytes"};
  if (entries.size() != *count) return Error{"client table: duplicate client"};
  entries_ = std::move(entries);
  by_age_ = std::move(by_age);
  return ok_status();
}

}  // namespace phalanx::pbft::core
