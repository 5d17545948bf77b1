#pragma once
// ConnectionTable: the ROUTER's routing ids, named by small stable numbers (connection ids)
// that callers can hold without seeing ZeroMQ. Bounded: beyond `capacity` entries the least
// recently used is forgotten, so a flood of short-lived clients costs bounded memory.
// Ids start at 1 and are never reused, so a forgotten id can never reach a newer client.
// Thread-safety: none; the I/O thread owns it.

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace phalanx::net {

class ConnectionTable {
 public:
  explicit ConnectionTable(std::size_t capacity);

  // The id of this routing id, made (and the oldest entry forgotten) if it is new.
  std::uint64_t id_for(std::string_view routing_id);
  // The routing id of `id`, or nullptr when it was never given or has been forgotten.
  const std::string* routing_id_of(std::uint64_t id);
  void forget(std::uint64_t id);
  std::size_t size() const { return by_id_.size(); }

 private:
  struct Entry {
    std::uint64_t id = 0;
    std::string routing_id;
  };
  using Position = std::list<Entry>::iterator;

  void touch(Position position) { recency_.splice(recency_.begin(), recency_, position); }

  std::size_t capacity_;
  std::uint64_t next_id_ = 1;
  std::list<Entry> recency_;  // front: most recently used
  std::unordered_map<std::string, Position> by_routing_id_;
  std::unordered_map<std::uint64_t, Position> by_id_;
};

}  // namespace phalanx::net
