#pragma once
// node::Storage: where a node makes the records of an action batch durable before it sends
// anything (actions.h). MemoryStorage keeps nothing across restarts (tests, simulation,
// and deployments that accept amnesia); the durable store lives in storage/ (crash-recovery).
// Thread-safety: a node calls its storage from its protocol thread only.

#include <cstdint>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/pbft/actions.h"

namespace phalanx::node {

class Storage {
 public:
  virtual ~Storage() = default;
  // Makes every record durable (written and synced) before returning. An error is an
  // operating error (disk full, I/O error): the node stops rather than send unpersisted.
  virtual Status append(const std::vector<pbft::DurableRecord>& records) = 0;
  virtual std::uint64_t syncs() const = 0;  // how many times it synced (group-commit metric)
};

// Counts records and forgets them.
class MemoryStorage final : public Storage {
 public:
  Status append(const std::vector<pbft::DurableRecord>& records) override {
    records_ += records.size();
    if (!records.empty()) ++syncs_;
    return ok_status();
  }
  std::uint64_t syncs() const override { return syncs_; }
  std::uint64_t records() const { return records_; }

 private:
  std::uint64_t records_ = 0;
  std::uint64_t syncs_ = 0;
};

}  // namespace phalanx::node
