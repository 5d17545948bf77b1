#include "core/merkle.h"

#include <algorithm>

#include "phalanx/base/assert.h"

namespace phalanx::pbft::core {

namespace {
crypto::Digest node(const crypto::Digest& left, const crypto::Digest& right) {
  return crypto::Hasher().update_field("node").update(left.view()).update(right.view()).finish();
}
crypto::Digest seal_root(std::uint64_t state_size, const crypto::Digest& tree_root) {
  return crypto::Hasher()
      .update_field("root")
      .update_u64(state_size)
      .update(tree_root.view())
      .finish();
}
}  // namespace

std::uint64_t chunk_count(std::uint64_t state_size, std::uint64_t chunk_bytes) {
  PHALANX_ASSERT(chunk_bytes > 0, "chunk size must be positive");
  return std::max<std::uint64_t>(1, (state_size + chunk_bytes - 1) / chunk_bytes);
}

ByteView chunk_of(ByteView state, std::uint64_t index, std::uint64_t chunk_bytes) {
  std::uint64_t begin = index * chunk_bytes;
  if (begin >= state.size()) return {};
  return state.substr(begin, chunk_bytes);
}

crypto::Digest merkle_leaf(std::uint64_t index, ByteView chunk) {
  return crypto::Hasher().update_field("leaf").update_u64(index).update_field(chunk).finish();
}

MerkleTree::MerkleTree(ByteView state, std::uint64_t chunk_bytes) {
  std::uint64_t count = chunk_count(state.size(), chunk_bytes);
  std::vector<crypto::Digest> leaves;
  leaves.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i)
    leaves.push_back(merkle_leaf(i, chunk_of(state, i, chunk_bytes)));
  levels_.push_back(std::move(leaves));
  while (levels_.back().size() > 1) {
    const auto& below = levels_.back();
    std::vector<crypto::Digest> above;
    above.reserve((below.size() + 1) / 2);
    for (std::size_t i = 0; i < below.size(); i += 2)
      above.push_back(i + 1 < below.size() ? node(below[i], below[i + 1]) : below[i]);
    levels_.push_back(std::move(above));
  }
  root_ = seal_root(state.size(), levels_.back().front());
}

std::vector<crypto::Digest> MerkleTree::path(std::uint64_t index) const {
  PHALANX_ASSERT(index < levels_.front().size(), "Merkle path for a chunk that does not exist");
  std::vector<crypto::Digest> siblings;
  for (std::size_t level = 0; level + 1 < levels_.size(); ++level) {
    std::uint64_t sibling = index ^ 1;
    if (sibling < levels_[level].size()) siblings.push_back(levels_[level][sibling]);
    index /= 2;
  }
  return siblings;
}

bool merkle_verify(const crypto::Digest& root, std::uint64_t state_size, std::uint64_t index,
                   std::uint64_t count, ByteView chunk, const std::vector<crypto::Digest>& path) {
  if (index >= count) return false;
  crypto::Digest current = merkle_leaf(index, chunk);
  std::size_t used = 0;
  std::uint64_t width = count;
  while (width > 1) {
    std::uint64_t sibling = index ^ 1;
    if (sibling < width) {  // a node without a right sibling is carried up unchanged
      if (used == path.size()) return false;
      current = (index % 2 == 0) ? node(current, path[used]) : node(path[used], current);
      ++used;
    }
    index /= 2;
    width = (width + 1) / 2;
  }
  return used == path.size() && seal_root(state_size, current) == root;
}

}  // namespace phalanx::pbft::core
