#pragma once
// A binary Merkle tree over the chunks of a checkpoint's state, so that a replica
// fetching state can check every chunk on arrival against the 2f+1-certified root
// (PBFT 5.3.2 uses a partition tree for the same reason): a lying peer can waste the
// fetcher's time but never feed it a false chunk.
//
// Leaves: H("leaf", index, chunk). Inner nodes: H("node", left, right); a node without a
// right sibling is carried up unchanged. Root: H("root", total size, tree root), so the
// chunk count follows from the certified size.

#include <cstdint>
#include <vector>

#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"

namespace phalanx::pbft::core {

// Splits `state` into chunks of `chunk_bytes` (the last may be shorter; an empty state is
// one empty chunk).
std::uint64_t chunk_count(std::uint64_t state_size, std::uint64_t chunk_bytes);
ByteView chunk_of(ByteView state, std::uint64_t index, std::uint64_t chunk_bytes);

crypto::Digest merkle_leaf(std::uint64_t index, ByteView chunk);

class MerkleTree {
 public:
  MerkleTree(ByteView state, std::uint64_t chunk_bytes);
  const crypto::Digest& root() const { return root_; }
  // Sibling digests from the leaf at `index` up to the tree root.
  std::vector<crypto::Digest> path(std::uint64_t index) const;

 private:
  std::vector<std::vector<crypto::Digest>> levels_;  // levels_[0] = leaves
  crypto::Digest root_;
};

bool merkle_verify(const crypto::Digest& root, std::uint64_t state_size, std::uint64_t index,
                   std::uint64_t count, ByteView chunk, const std::vector<crypto::Digest>& path);

}  // namespace phalanx::pbft::core
