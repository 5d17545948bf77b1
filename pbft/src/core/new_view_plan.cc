#include "core/new_view_plan.h"

#include <map>

#include "phalanx/base/assert.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft::core {

namespace {
struct Candidate {
  View view = 0;
  crypto::Digest digest;
  std::shared_ptr<const wire::PrePrepare> batch;
};

std::shared_ptr<const wire::PrePrepare> null_batch() {
  static const auto empty = std::make_shared<const wire::PrePrepare>();
  return empty;
}
}  // namespace

NewViewPlan plan_new_view(const std::vector<const wire::ViewChange*>& view_changes, Seq window) {
  NewViewPlan plan;
  for (const auto* view_change : view_changes) {
    if (plan.checkpoint_source == nullptr || view_change->stable_seq() > plan.min_s) {
      plan.min_s = view_change->stable_seq();
      plan.checkpoint_source = view_change;
    }
  }
  // For each sequence number, the prepared certificate of the highest view; ties (possible
  // only with more than f faulty replicas) go to the smaller digest, to stay deterministic.
  std::map<Seq, Candidate> chosen;
  for (const auto* view_change : view_changes) {
    for (const auto& certificate : view_change->prepared()) {
      auto batch = std::make_shared<wire::PrePrepare>();
      PHALANX_ASSERT(batch->ParseFromString(certificate.pre_prepare().payload()),
                     "verified pre-prepare unparsable");
      Seq seq = batch->seq();
      if (seq <= plan.min_s || seq > plan.min_s + window) continue;
      Candidate candidate{batch->view(), *crypto::Digest::from_bytes(batch->digest()), batch};
      auto [it, inserted] = chosen.try_emplace(seq, candidate);
      if (!inserted && (candidate.view > it->second.view || (candidate.view == it->second.view &&
                                                             candidate.digest < it->second.digest)))
        it->second = candidate;
    }
  }
  Seq max_s = chosen.empty() ? plan.min_s : chosen.rbegin()->first;
  for (Seq seq = plan.min_s + 1; seq <= max_s; ++seq) {
    auto found = chosen.find(seq);
    if (found != chosen.end()) {
      plan.reproposals.push_back(Reproposal{seq, found->second.digest, found->second.batch});
    } else {
      google::protobuf::RepeatedPtrField<wire::Envelope> none;
      plan.reproposals.push_back(Reproposal{seq, batch_digest(0, none), null_batch()});
    }
  }
  return plan;
}

bool matches_plan(const NewViewPlan& plan,
                  const google::protobuf::RepeatedPtrField<wire::Envelope>& pre_prepares) {
  if (static_cast<std::size_t>(pre_prepares.size()) != plan.reproposals.size()) return false;
  for (std::size_t i = 0; i < plan.reproposals.size(); ++i) {
    wire::PrePrepare proposal;
    if (!proposal.ParseFromString(pre_prepares[static_cast<int>(i)].payload())) return false;
    if (proposal.seq() != plan.reproposals[i].seq) return false;
    if (proposal.digest() != plan.reproposals[i].digest.view()) return false;
  }
  return true;
}

}  // namespace phalanx::pbft::core
