// Batch times (ReplicaOptions::batch_time_skew_max): the time an application may use
// (RequestContext::time) without reading a clock of its own. Clocks lie, so no replica's
// decision depends on two clocks agreeing:
// - the primary proposes a time: its wall clock, or just after the previous batch's time
//   if its clock is behind that;
// - a backup prepares a batch only if its time is after the previous batch's and within
//   the skew bound of the backup's own clock. A primary whose clock is off by more than
//   the bound gets nothing prepared and is replaced by the view change; a backup whose
//   clock is off only withholds its own prepare (one of f that may be missing);
// - what the application sees is the agreed time, max(the proposed time, the previous
//   batch's agreed time + 1 ms), computed from committed batches alone: strictly
//   increasing, and the same at every replica whatever the clocks said.
#include "core/replica_core.h"

namespace phalanx::pbft {

// The time the batch at `seq` must exceed: the nearest earlier batch in the log that has
// one, else the last executed batch's agreed time.
UnixMillis Replica::Core::time_before(Seq seq) const {
  for (auto it = log_.lower_bound(seq); it != log_.begin();) {
    --it;
    if (it->first <= last_executed_) break;
    const auto& batch = it->second.committed ? it->second.committed_batch : it->second.batch;
    if (batch && batch->batch_time() != 0) return batch->batch_time();
  }
  return batch_time_;
}

UnixMillis Replica::Core::propose_time(Seq seq) const {
  if (!batch_times_on()) return 0;
  return std::max(wall_clock_(), time_before(seq) + 1);
}

const char* Replica::Core::batch_time_problem(const wire::PrePrepare& batch) const {
  if (!batch_times_on()) return nullptr;
  if (batch.batch_time() == 0) return "pre-prepare without a batch time";
  if (batch.batch_time() <= time_before(batch.seq()))
    return "pre-prepare whose batch time is not after the previous batch's";
  UnixMillis skew = options_.batch_time_skew_max / kMillisecond;
  UnixMillis wall = wall_clock_();
  if (batch.batch_time() > wall + skew) return "pre-prepare whose batch time is ahead of our clock";
  if (batch.batch_time() + skew < wall) return "pre-prepare whose batch time is behind our clock";
  return nullptr;
}

UnixMillis Replica::Core::agreed_time(const wire::PrePrepare& batch) const {
  if (!batch_times_on() || batch.batch_time() == 0) return batch_time_;
  return std::max(batch.batch_time(), batch_time_ + 1);
}

}  // namespace phalanx::pbft
