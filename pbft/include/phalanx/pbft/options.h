#pragma once
// Tunables of the replica and client cores, with their defaults. Times are monotonic
// nanoseconds (see types.h); each field names its unit.

#include <cstddef>
#include <cstdint>

#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

struct ReplicaOptions {
  // Checkpoints (PBFT 4.3): every K sequence numbers; the log window is L = K * windows.
  std::uint64_t checkpoint_interval = 128;
  std::uint64_t window_checkpoints = 2;

  // Batching: a batch leaves when it is full or when its oldest request waited this long.
  std::size_t batch_requests_max = 64;
  Instant batch_delay_max = 1 * kMillisecond;
  // Adaptive batching: while this many of the primary's batches are in flight (proposed,
  // not yet executed), a batch that is not full waits for one of them to execute instead
  // of leaving at batch_delay_max, so batches grow with load and the agreement's cost is
  // spread over more requests. 0: no such wait.
  std::size_t pipeline_batches_max = 4;

  // Retransmission: every status interval a replica tells its peers what it has, and
  // answers a peer's status with at most this many slots it lacks.
  Instant status_interval = 50 * kMillisecond;
  std::size_t retransmit_slots_max = 16;

  // State transfer: how long to wait for a chunk before asking another peer, and how
  // many chunks are asked for at once (pipelining: a transfer is bounded by bandwidth,
  // not by one round trip per chunk).
  Instant state_fetch_timeout = 200 * kMillisecond;
  std::size_t state_chunk_bytes = 256 * 1024;
  std::size_t state_chunks_in_flight = 16;

  // Bounds on what clients can make a replica hold.
  std::size_t pending_requests_max = 10'000;  // requests waiting to be ordered
  std::size_t client_table_max = 100'000;     // clients whose last reply is kept

  // View change (PBFT 4.4 and 4.5.2). The base timeout adapts to the observed commit
  // latency within [floor, ceiling]; it doubles per failed view and resets on progress.
  Instant view_timeout_initial = 1 * kSecond;
  // The floor stays above what retransmission needs to recover a lost message (a few
  // status intervals), so that loss alone does not depose a correct primary.
  Instant view_timeout_floor = 300 * kMillisecond;
  Instant view_timeout_ceiling = 10 * kSecond;

  // The slow-primary watch (pbft/src/core/primary_monitor.h): a backup suspects a primary
  // whose smoothed proposal delay exceeds this factor times the network's message delay,
  // over at least this many requests, and this absolute delay. 0: off.
  double slow_primary_factor = 10;
  std::uint64_t slow_primary_samples = 32;
  Instant slow_primary_delay_min = 50 * kMillisecond;

  // A backup that got a request straight from a client passes it on to the primary if the
  // primary has not proposed it after this long (the client may not reach the primary).
  Instant request_relay_delay = 20 * kMillisecond;

  // Batch times (RequestContext::time): 0 turns them off. On, the primary stamps each
  // batch with max(its wall clock, the previous batch's time + 1 ms), and a backup
  // prepares a batch only if its time is after the previous batch's and within this bound
  // of the backup's own wall clock (ReplicaSetup::wall_clock), so a primary whose clock
  // is wrong by more than the bound cannot get a batch prepared and is replaced. The
  // replicas' clocks need to agree within the bound for progress, never for safety.
  Instant batch_time_skew_max = 0;

  // Accept clients that authenticate requests with MACs (ClientOptions::mac_authenticators,
  // pbft/authenticators.h) beside signed ones, and answer them with MACs. Off by default:
  // MACs cost a hash where signatures cost ~50 us to check, but one MAC client that lies
  // to more than f replicas can cost the cluster view changes and throughput (never
  // safety; pbft/authenticators.h). The driver acts on it by giving the Verifier the replica's MAC
  // keys (Verifier::replica_macs).
  bool accept_mac_clients = false;

  std::uint64_t window() const { return checkpoint_interval * window_checkpoints; }
};

struct ClientOptions {
  // After this long without f+1 matching replies the request goes to every replica;
  // the wait doubles on each retry up to the maximum.
  Instant retry_timeout = 300 * kMillisecond;
  Instant retry_timeout_max = 5 * kSecond;
  // Send every request to every replica at once (not only to the primary), so that the
  // backups can time the primary (primary_monitor.h) and no request waits for a retry
  // when the primary is faulty. Costs n copies of each request on the wire.
  bool send_to_all = true;
  // Authenticate requests with a MAC per replica instead of an Ed25519 signature, and
  // accept MAC-authenticated replies (pbft/authenticators.h): far cheaper for everyone,
  // but only for clusters that accept MAC clients. Off: signed requests.
  bool mac_authenticators = false;
};

}  // namespace phalanx::pbft
