#include "zmq_connection_table.h"

#include "phalanx/base/assert.h"
#include "phalanx/net/zmq_transport.h"

namespace phalanx::net {

ConnectionTable::ConnectionTable(std::size_t capacity) : capacity_(capacity) {
  PHALANX_ASSERT(capacity_ > 0, "a connection table needs room for one connection");
}

std::uint64_t ConnectionTable::id_for(std::string_view routing_id) {
  const std::string key(routing_id);
  if (auto found = by_routing_id_.find(key); found != by_routing_id_.end()) {
    touch(found->second);
    return found->second->id;
  }
  if (by_id_.size() == capacity_) forget(recency_.back().id);
  const std::uint64_t id = next_id_++;
  // Peer connection ids live at and above this bit; 2^63 arrivals cannot happen.
  PHALANX_ASSERT(id < ZmqTransport::kPeerConnectionBit, "connection ids exhausted");
  recency_.push_front(Entry{id, key});
  by_routing_id_.emplace(key, recency_.begin());
  by_id_.emplace(id, recency_.begin());
  return id;
}

const std::string* ConnectionTable::routing_id_of(std::uint64_t id) {
  auto found = by_id_.find(id);
  if (found == by_id_.end()) return nullptr;
  touch(found->second);
  return &found->second->routing_id;
}

void ConnectionTable::forget(std::uint64_t id) {
  auto found = by_id_.find(id);
  if (found == by_id_.end()) return;
  by_routing_id_.erase(found->second->routing_id);
  recency_.erase(found->second);
  by_id_.erase(found);
}

}  // namespace phalanx::net
