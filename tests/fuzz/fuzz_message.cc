// libFuzzer target: every protocol message's validation. The first byte of the input
// picks the kind and the signer (a replica of the fuzz cluster, or a client); the rest is
// the payload, which the harness signs with the test keys before opening it, so that each
// payload reaches its kind's validation (pbft/src/wire/validate.cc). Nested envelopes in
// the payload (requests in a batch, certificates) carry whatever signature the input has:
// the fuzzer cannot forge one, so those exercise the rejection of bad nested signatures.
#include <cstddef>
#include <cstdint>

#include "fuzz_cluster.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace phalanx;
  if (size == 0) return 0;
  // Replica 1 accepting MAC clients: nested requests with authenticators are checked too.
  static const pbft::Verifier verifier = fuzz::mac_verifier();
  // Kinds 1..13 (wire::Kind); signer: replica 0..3, or the client for REQUEST.
  auto kind = static_cast<wire::Kind>(1 + data[0] % 13);
  auto sender = static_cast<pbft::ReplicaId>((data[0] / 13) % fuzz::kReplicas);
  Bytes payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  Bytes bytes = fuzz::signed_envelope(kind, sender, std::move(payload)).SerializeAsString();
  auto audience = kind == wire::REPLY ? pbft::Audience::kClient : pbft::Audience::kReplica;
  pbft::Opened opened = pbft::open_envelope(bytes, verifier, audience);
  // The signature is good: a rejection, if any, is about the payload.
  if (!opened.ok() && (opened.rejection == pbft::Rejection::kBadSignature ||
                       opened.rejection == pbft::Rejection::kUnknownSender))
    __builtin_trap();
  return 0;
}
