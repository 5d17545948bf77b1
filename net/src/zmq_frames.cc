#include "zmq_frames.h"

#include <utility>

#include "phalanx/base/assert.h"

namespace phalanx::net {
namespace {

constexpr char kSingleTag = 'N';
constexpr char kBundleTag = 'B';
constexpr std::size_t kIdBytes = 4;

void put_u32(std::string& out, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

std::uint32_t get_u32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i)
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return value;
}

}  // namespace

std::string header_frame(std::optional<NodeId> self, bool bundle) {
  if (!self && !bundle) return {};
  std::string frame(1, bundle ? kBundleTag : kSingleTag);
  if (self) put_u32(frame, *self);
  return frame;
}

std::optional<FrameHeader> parse_header(std::string_view frame) {
  if (frame.size() == 1 && frame[0] == kBundleTag) return FrameHeader{std::nullopt, true};
  if (frame.size() != 1 + kIdBytes) return std::nullopt;
  if (frame[0] != kSingleTag && frame[0] != kBundleTag) return std::nullopt;
  return FrameHeader{get_u32(frame.substr(1)), frame[0] == kBundleTag};
}

void BundleWriter::add(std::string_view message) {
  PHALANX_ASSERT(fits(message.size()), "a message added to a bundle it does not fit");
  messages_.push_back(message);
  bytes_ += kBundleEntryHeaderBytes + message.size();
}

std::string BundleWriter::take() {
  std::string bundle;
  bundle.reserve(bytes_);
  for (std::string_view message : messages_) {
    put_u32(bundle, static_cast<std::uint32_t>(message.size()));
    bundle.append(message);
  }
  clear();
  return bundle;
}

void BundleWriter::clear() {
  messages_.clear();
  bytes_ = 0;
}

bool unpack_bundle(std::string_view bundle, const std::function<void(std::string_view)>& each) {
  // Walk the lengths first, so that a malformed bundle delivers nothing.
  if (bundle.size() > kBundleBytesMax) return false;
  std::size_t at = 0;
  std::size_t entries = 0;
  while (at < bundle.size()) {
    if (bundle.size() - at < kBundleEntryHeaderBytes) return false;
    std::size_t length = get_u32(bundle.substr(at));
    at += kBundleEntryHeaderBytes;
    if (length == 0 || bundle.size() - at < length) return false;
    at += length;
    if (++entries > kBundleEntriesMax) return false;
  }
  if (entries == 0) return false;
  for (at = 0; at < bundle.size();) {
    std::size_t length = get_u32(bundle.substr(at));
    each(bundle.substr(at + kBundleEntryHeaderBytes, length));
    at += kBundleEntryHeaderBytes + length;
  }
  return true;
}

}  // namespace phalanx::net
