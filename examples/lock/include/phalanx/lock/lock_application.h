#pragma once
// The lock service as a pbft::Application: decodes each operation (operation.h), applies
// it to the LockTable for the requesting client at the batch's agreed time, and answers
// with an encoded Reply (reply.h). The lock owner is RequestContext::client, the key that
// signed the request; the time is RequestContext::time, so the cluster must run with
// batch times (ReplicaOptions::batch_time_skew_max > 0; phalanx-lock-replica turns them
// on). A malformed operation is no error of the replica: it executes as a no-op with the
// reply Outcome::kMalformed, at every replica alike.
//
// Thread-safety: as pbft::Application (one thread at a time).
#include "phalanx/lock/lock_table.h"
#include "phalanx/pbft/application.h"

namespace phalanx::lock {

class LockApplication final : public pbft::Application {
 public:
  Bytes execute(ByteView operation, const pbft::RequestContext& context) override;
  Bytes snapshot() const override { return table_.snapshot(); }
  Status restore(ByteView snapshot) override { return table_.restore(snapshot); }

  const LockTable& table() const { return table_; }

 private:
  LockTable table_;
};

}  // namespace phalanx::lock
