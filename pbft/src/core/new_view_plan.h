#pragma once
// The re-proposals of a new view: the paper's O set (PBFT 4.4), as a pure function of the
// 2f+1 VIEW-CHANGEs in a NEW-VIEW. The new primary computes it to build its NEW-VIEW and
// every backup computes it again to check that NEW-VIEW; any difference means the primary
// lied, and the NEW-VIEW is rejected.
//
// min_s is the latest stable checkpoint among the view changes; for each n in
// (min_s, max_s], the batch of the prepared certificate with the highest view for n, or a
// null batch when no view change prepared n. With at most f faulty replicas nothing can
// have prepared above min_s + L (a certificate there would need f+1 correct replicas with
// a stable checkpoint above min_s, and one of them is among the 2f+1), so the plan stops
// at min_s + L: that bounds what a faulty replica's view change can make us propose.

#include <memory>
#include <vector>

#include "phalanx.pb.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

struct Reproposal {
  Seq seq = 0;
  crypto::Digest digest;
  std::shared_ptr<const wire::PrePrepare> batch;  // the prepared batch; null: null batch
};

struct NewViewPlan {
  Seq min_s = 0;
  const wire::ViewChange* checkpoint_source = nullptr;  // a view change whose stable_seq is min_s
  std::vector<Reproposal> reproposals;                  // seq min_s+1, min_s+2, ... max_s
};

NewViewPlan plan_new_view(const std::vector<const wire::ViewChange*>& view_changes, Seq window);

// True when `pre_prepares` (a NEW-VIEW's, already verified) are exactly the plan's.
bool matches_plan(const NewViewPlan& plan,
                  const google::protobuf::RepeatedPtrField<wire::Envelope>& pre_prepares);

}  // namespace phalanx::pbft::core
