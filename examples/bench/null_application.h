#pragma once
// The null application: does nothing with an operation and answers with `reply_bytes`
// bytes, so that a benchmark measures the replication layer alone. Its state is the
// number of operations executed (so checkpoints and state transfer still have something
// to agree on).

#include <cstdint>
#include <cstring>

#include "phalanx/pbft/application.h"

namespace phalanx::bench {

class NullApplication final : public pbft::Application {
 public:
  explicit NullApplication(std::size_t reply_bytes) : reply_(reply_bytes, 'r') {}

  Bytes execute(ByteView, const pbft::RequestContext&) override {
    ++executed_;
    return reply_;
  }
  Bytes snapshot() const override {
    Bytes state(sizeof executed_, '\0');
    std::memcpy(state.data(), &executed_, sizeof executed_);
    return state;
  }
  Status restore(ByteView snapshot) override {
    if (snapshot.size() != sizeof executed_) return Error{"null application: bad snapshot size"};
    std::memcpy(&executed_, snapshot.data(), sizeof executed_);
    return ok_status();
  }

 private:
  Bytes reply_;
  std::uint64_t executed_ = 0;
};

}  // namespace phalanx::bench
