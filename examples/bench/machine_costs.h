#pragma once
// What this machine's parts cost, timed when phalanx-bench starts: the figures the ceiling
// of a run is derived from (cost_model.h), so a result is stated beside the machine's own
// bound rather than beside someone else's machine.
//
// Thread-safety: measure_machine() starts and joins its own threads; call it while nothing
// else runs (it times CPU for the whole process).

#include <string>

namespace phalanx::bench {

struct MachineCosts {
  unsigned cores = 1;              // std::thread::hardware_concurrency()
  double sign_us = 0;              // Ed25519 sign of a signing digest over a 100-byte payload
  double verify_us = 0;            // Ed25519 verify, the same
  double blake2b_ns_per_byte = 0;  // BLAKE2b-256 over 64 KiB
  double zmq_round_trip_us = 0;    // DEALER -> ROUTER -> DEALER, 100 bytes, TCP 127.0.0.1
  double zmq_message_cpu_us = 0;   // CPU of both ends (and libzmq's threads) per message
                                   // streamed one way, 100 bytes
  bool curve = false;              // the ZeroMQ figures are with CurveZMQ encryption
};

// Takes about a second. `curve`: time ZeroMQ with CurveZMQ, as the run's links are.
MachineCosts measure_machine(bool curve);

// Each figure the faster of two timings. A virtual machine's speed drifts over minutes;
// timed before and after a run, the faster timing makes the ceiling the higher of the
// two, so a result is never flattered by a machine that happened to be slow when timed.
MachineCosts fastest_of(const MachineCosts& a, const MachineCosts& b);

}  // namespace phalanx::bench
