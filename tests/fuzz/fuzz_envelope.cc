// libFuzzer target: arbitrary bytes as a received message, opened as a replica and as a
// client would (pbft::open_envelope: size, decode, kind, sender, signature, then the
// payload's validation). Whatever the bytes, opening must return a rejection or a message,
// never crash, leak or read out of bounds (the fuzz preset adds ASan and UBSan).
//
// Each input is opened twice: by the signed-only cluster and by one that accepts MAC
// clients (authenticators.h). Random bytes almost never carry a valid signature;
// fuzz_message.cc signs its input so that the payload validation is reached too.
#include <cstddef>
#include <cstdint>

#include "fuzz_cluster.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace phalanx;
  static const pbft::Verifier verifier = fuzz::cluster_verifier();
  static const pbft::Verifier with_macs = fuzz::mac_verifier();
  ByteView bytes(reinterpret_cast<const char*>(data), size);
  for (const pbft::Verifier* opener : {&verifier, &with_macs}) {
    for (auto audience : {pbft::Audience::kReplica, pbft::Audience::kClient}) {
      pbft::Opened opened = pbft::open_envelope(bytes, *opener, audience);
      // Exactly one of the two outcomes.
      if (opened.ok() == (opened.rejection != pbft::Rejection::kCount)) __builtin_trap();
    }
  }
  return 0;
}
