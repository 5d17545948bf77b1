#pragma once
// Test support: what a MAC client that lies to some replicas sends (authenticators.h): a
// request whose authenticator is valid except for those replicas' entries.

#include <gtest/gtest.h>

#include <initializer_list>

#include "phalanx/crypto/mac.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::testing {

// `request` with its authenticator's entries for `replicas` spoiled (one bit flipped each).
inline wire::Envelope with_entries_spoiled(wire::Envelope request,
                                           std::initializer_list<pbft::ReplicaId> replicas) {
  for (pbft::ReplicaId replica : replicas) {
    std::size_t at = replica * crypto::kMacSize;
    EXPECT_LT(at, request.authenticator().size()) << "no entry for replica " << replica;
    if (at < request.authenticator().size()) (*request.mutable_authenticator())[at] ^= 0x01;
  }
  return request;
}

}  // namespace phalanx::testing
