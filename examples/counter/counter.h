#pragma once
// Counter: the smallest useful pbft::Application. Its state is one number; an operation
// is an amount to add (8 bytes, little-endian); the result of each is the new total.
// Thread-safety: a replica calls execute/snapshot/restore from its one protocol thread;
// total() may be read from any thread (the state is atomic for that reason alone).
#include <atomic>
#include <cstdint>
#include <optional>

#include "phalanx/base/byte_io.h"
#include "phalanx/pbft/application.h"

class Counter final : public phalanx::pbft::Application {
 public:
  // Deterministic: the result depends on the state and the operation only. A malformed
  // operation is not an error of the replica; it adds nothing, the same on every replica.
  phalanx::Bytes execute(phalanx::ByteView operation,
                         const phalanx::pbft::RequestContext&) override {
    if (auto amount = decode(operation)) total_ += *amount;
    return encode(total_);
  }
  // Equal states give byte-identical snapshots: the checkpoint digests compare them.
  phalanx::Bytes snapshot() const override { return encode(total_); }
  phalanx::Status restore(phalanx::ByteView snapshot) override {
    auto total = decode(snapshot);
    if (!total) return phalanx::Error{"a counter snapshot is 8 bytes"};
    total_ = *total;
    return phalanx::ok_status();
  }
  std::uint64_t total() const { return total_; }

  static phalanx::Bytes encode(std::uint64_t number) {
    return phalanx::ByteWriter().u64(number).take();
  }
  static std::optional<std::uint64_t> decode(phalanx::ByteView bytes) {
    phalanx::ByteReader reader(bytes);
    auto number = reader.u64();
    return reader.done() ? number : std::nullopt;
  }

 private:
  std::atomic<std::uint64_t> total_{0};
};
