#pragma once
// When to give up on a primary: the view-change timeout policy, kept apart from the
// agreement rules (STYLE.md 9, libhotstuff's pacemaker) so that it can change without
// touching safety. Nothing here can make replicas disagree; a bad policy only costs
// time (needless view changes, or slow detection of a dead primary).
//
// The base timeout follows the observed commit latency: an estimator in the manner of
// TCP's retransmission timer (RFC 6298): smoothed latency plus four times its mean
// deviation, times a safety factor, clamped to [floor, ceiling]. Each view that fails in a
// row doubles the timeout (PBFT 4.5.2); progress resets the doubling.

#include <algorithm>
#include <cstdint>

#include "phalanx/pbft/options.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

class ViewTimeoutPolicy {
 public:
  explicit ViewTimeoutPolicy(const ReplicaOptions& options)
      : floor_(options.view_timeout_floor),
        ceiling_(options.view_timeout_ceiling),
        base_(std::clamp(options.view_timeout_initial, floor_, ceiling_)) {}

  // A request took `latency` from arrival at this replica (or from the start of the view,
  // for a request older than it) to execution.
  void observe_commit_latency(Instant latency);
  // Requests executed (normal_case.cc): the cluster makes progress, so the next failure
  // starts from the base timeout again. Accepting a NEW-VIEW is not progress: the new
  // primary may fail too, and the wait keeps doubling until something executes.
  void on_progress() { failed_views_ = 0; }
  // A view failed to produce progress in time.
  void on_view_failed() { failed_views_ = std::min<std::uint32_t>(failed_views_ + 1, 16); }

  // How long to wait for a request to execute before suspecting the primary.
  Instant request_timeout() const { return backed_off(base_); }
  // How long to wait in a view change, after 2f+1 VIEW-CHANGEs, for a NEW-VIEW.
  Instant view_change_timeout() const { return backed_off(base_); }
  Instant base() const { return base_; }
  std::uint32_t failed_views() const { return failed_views_; }

 private:
  Instant backed_off(Instant timeout) const {
    Instant limit = ceiling_ << std::min<std::uint32_t>(failed_views_, 6);
    return std::min(timeout << failed_views_, limit);
  }

  Instant floor_;
  Instant ceiling_;
  Instant base_;
  bool have_sample_ = false;
  double smoothed_ = 0;
  double deviation_ = 0;
  std::uint32_t failed_views_ = 0;
};

inline void ViewTimeoutPolicy::observe_commit_latency(Instant latency) {
  // RFC 6298 gains: 1/8 for the mean, 1/4 for the deviation.
  double sample = static_cast<double>(latency);
  if (!have_sample_) {
    smoothed_ = sample;
    deviation_ = sample / 2;
    have_sample_ = true;
  } else {
    deviation_ =
        0.75 * deviation_ + 0.25 * (sample > smoothed_ ? sample - smoothed_ : smoothed_ - sample);
    smoothed_ = 0.875 * smoothed_ + 0.125 * sample;
  }
  // A request waits behind a batch and a pipeline of others: allow a generous multiple.
  double estimate = 4.0 * (smoothed_ + 4.0 * deviation_);
  base_ = std::clamp(static_cast<Instant>(estimate), floor_, ceiling_);
}

}  // namespace phalanx::pbft::core
