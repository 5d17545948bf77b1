#pragma once
// The last executed request and its result, per client: what makes execution
// exactly-once (PBFT 4.1). A retransmitted request is answered from here instead of being
// executed again; a request at or below a client's last id is never executed.
//
// The table is part of the checkpointed state, so its serialization is deterministic
// (clients in key order, no replica-specific bytes such as signed replies).
//
// Bounded: past `capacity` clients, the client whose last request executed earliest is
// forgotten (deterministically, by sequence number then key). A forgotten client that
// replays an old request could have it executed again; docs/limits.md says so and sizes
// the default far above any expected client population.

#include <map>
#include <set>
#include <utility>

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/actions.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

struct ClientEntry {
  RequestId last_request_id = 0;
  Seq seq = 0;  // where it executed
  Bytes result;
  SharedBytes sealed_reply;    // cache of the signed reply; not part of the state
  bool reply_has_mac = false;  // sealed_reply carries a MAC, not a signature (a MAC client)
};

class ClientTable {
 public:
  explicit ClientTable(std::size_t capacity) : capacity_(capacity) {}

  const ClientEntry* find(const crypto::PublicKey& client) const;
  ClientEntry* find(const crypto::PublicKey& client);
  ClientEntry& record(const crypto::PublicKey& client, RequestId request_id, Seq seq, Bytes result);
  std::size_t size() const { return entries_.size(); }

  Bytes serialize() const;
  Status restore(ByteView bytes);

 private:
  std::size_t capacity_;
  std::map<crypto::PublicKey, ClientEntry> entries_;
  std::set<std::pair<Seq, crypto::PublicKey>> by_age_;  // eviction order
};

}  // namespace phalanx::pbft::core
