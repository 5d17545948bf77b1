#pragma once
// What SimCluster keeps per node; private to adversary/src (sim_cluster.cc, sim_faults.cc).
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/examples/kv_application.h"
#include "phalanx/storage/storage.h"

namespace phalanx::adversary {

struct SimCluster::ReplicaNode {
  pbft::ReplicaId id = 0;  // the identity it signs as (a twin shares its replica's)
  net::NodeId node = 0;    // where it is on the network
  std::unique_ptr<pbft::Application> application;  // SimClusterOptions::make_application
  std::unique_ptr<pbft::Replica> replica;
  std::shared_ptr<storage::SimFileSystem> disk;  // log storage only
  std::unique_ptr<storage::Storage> storage;     // survives crashes, as a disk does
  std::optional<CrashPolicy> crash_while_persisting;
  std::string refusal;                   // why its storage last refused to load
  std::unique_ptr<Behaviour> behaviour;  // set: Byzantine
  bool silent = false;                   // silent from the start, or crashed since
  std::uint32_t pauses = 0;              // pauses in force; it steps only at 0
  std::deque<net::Delivery> held;        // delivered while paused, handed over on resume
  // Processing time (SimClusterOptions::cpu): busy until then; what came meanwhile (a
  // nullopt: a timer) waits in order.
  pbft::Instant busy_until = 0;
  std::deque<std::optional<net::Delivery>> cpu_queue;
  bool drain_scheduled = false;
};

struct SimCluster::ClientNode {
  std::unique_ptr<pbft::ClientCore> core;
  std::uint32_t submitted = 0;
  std::uint32_t completed = 0;
  // The outstanding request, for its CompletionRecord.
  pbft::Instant submitted_at = 0;  // simulated
  pbft::ReplicaId first_sent_to = 0;
  std::uint32_t broadcasts = 0;
};

}  // namespace phalanx::adversary
