#pragma once
// PrimaryMonitor: a backup's watch on how long the primary takes to propose what clients
// sent, against how long the network takes to carry a message. A liveness policy, apart
// from the agreement rules like view_timeout.h: it can only cause view changes, never
// disagreement.
//
// Why: the request timer (view_timeout.h) catches a primary that stops proposing, but a
// primary that delays every pre-prepare to just under the timeout keeps its view while the
// cluster crawls (Clement et al., "Making Byzantine fault tolerant systems tolerate
// Byzantine faults", NSDI '09, call this the slow-primary attack). Clients send each
// request to every replica (ClientOptions::send_to_all), so a backup knows when a request
// arrived and can time the primary:
//   proposal delay = the request's arrival here -> the pre-prepare that carries it;
//   prepare delay  = a pre-prepare's arrival here -> 2f matching PREPAREs (one message
//                    delay between backups, plus their processing).
// An honest primary proposes within a couple of message delays plus its batching wait,
// once the requests queued ahead of this one are proposed: under load (more clients than a
// batch, arriving together) a request waits behind them however honest the primary, and
// its whole wait made the primary look slow exactly when the cluster could least afford a
// view change (tests/sim/overload_test.cc: an honest cluster changed views 1-4 times in a
// burst of 256-1024 clients, and a bench run stopped altogether). So a request that
// arrived with k unproposed requests ahead of it counts its wait divided by 1 + k/b, b a
// full batch: each full batch ahead of it allows one more limit. Without a queue that is
// the wait itself. Only the queue on arrival counts, not what arrives later: counting
// later arrivals too measured how fast requests came, not how fast the primary moved them,
// and a slow primary went unnoticed under a few hundred clients. The allowance is the
// watch's weakness under load: a primary may take up to k/b limits over a request that
// arrived behind k others (the simulations still replace one that holds every pre-prepare
// 250 ms, with 64, 256 or 1,024 clients). The backup's own queue is the other part
// of a wait under load: a request waits while the backup works through what reached it
// before the pre-prepare. A backup that was behind its own input without a break from a
// request's arrival to its proposal (Replica::note_backlog) cannot tell the two apart, and
// takes no sample; a slow primary leaves its backups idle while it holds its pre-prepares.
// The primary is suspected when, over at least `slow_primary_samples` requests in this
// view, the smoothed proposal delay exceeds `slow_primary_factor` times the smoothed
// prepare delay plus the batch delay, and also `slow_primary_delay_min` (so that jitter
// at microsecond scales never trips it) and a quarter of `view_timeout_floor`: an operator
// who raised the floor because the cluster stalls that long now and then (a checkpoint of
// a large state, say) has told us stalls of that size are no sign of a faulty primary. Each
// suspicion doubles the factor for the views that follow (up to 8x), so that a cluster whose load,
// not its primary, is slow does not change views for ever; a view with a healthy primary halves it
// back.
//
// Thread-safety: none (part of the core).

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "phalanx/pbft/options.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

// A request's wait for its proposal, per full batch queued ahead of it on arrival (`backlog`
// requests; see the top).
inline Instant paced_wait(Instant wait, std::size_t backlog, std::size_t batch_requests_max) {
  return wait / (1 + backlog / std::max<std::size_t>(batch_requests_max, 1));
}

class PrimaryMonitor {
 public:
  explicit PrimaryMonitor(const ReplicaOptions& options)
      : factor_(options.slow_primary_factor),
        samples_min_(options.slow_primary_samples),
        delay_min_(std::max(options.slow_primary_delay_min, options.view_timeout_floor / 4)),
        batch_delay_(options.batch_delay_max) {}

  bool enabled() const { return factor_ > 0; }

  // A new view: its primary is judged afresh. `previous_was_healthy`: the view that ended
  // was not suspected (its primary earns back half the caution).
  void on_new_view(bool previous_was_healthy) {
    if (previous_was_healthy) backoff_ = std::max<std::uint32_t>(backoff_ / 2, 1);
    proposal_ = Smoothed{};
    suspected_ = false;
  }
  // A request was proposed after waiting `paced` (paced_wait above).
  void observe_proposal_delay(Instant paced) { proposal_.add(paced); }
  void observe_prepare_delay(Instant delay) { prepare_.add(delay); }

  // True once per view, when the primary is to be replaced.
  bool primary_too_slow() {
    if (!enabled() || suspected_ || proposal_.count < samples_min_ || prepare_.count == 0)
      return false;
    double limit = std::max(static_cast<double>(delay_min_), factor_ * backoff_ * prepare_.value +
                                                                 static_cast<double>(batch_delay_));
    if (proposal_.value <= limit) return false;
    suspected_ = true;
    backoff_ = std::min<std::uint32_t>(backoff_ * 2, 8);
    return true;
  }
  bool suspected() const { return suspected_; }

 private:
  // An exponentially weighted mean (gain 1/8, as RFC 6298's), with a sample count.
  struct Smoothed {
    double value = 0;
    std::uint64_t count = 0;
    void add(Instant sample) {
      value = count == 0 ? static_cast<double>(sample)
                         : 0.875 * value + 0.125 * static_cast<double>(sample);
      ++count;
    }
  };

  double factor_;
  std::uint64_t samples_min_;
  Instant delay_min_;
  Instant batch_delay_;
  std::uint32_t backoff_ = 1;
  Smoothed proposal_;  // this view's
  Smoothed prepare_;   // across views: the network's, not the primary's
  bool suspected_ = false;
};

}  // namespace phalanx::pbft::core
