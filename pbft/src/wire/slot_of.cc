// slot_of (wire.h): which (view, seq) a message is about, for traces and test filters.
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft {
namespace {

template <typename Message>
std::optional<MessageSlot> slot_in(const std::string& payload) {
  Message message;
  if (!message.ParseFromString(payload)) return std::nullopt;
  return MessageSlot{message.view(), message.seq()};
}

}  // namespace

std::optional<MessageSlot> slot_of(const wire::Envelope& envelope) {
  switch (envelope.kind()) {
    case wire::PRE_PREPARE:
      return slot_in<wire::PrePrepare>(envelope.payload());
    case wire::PREPARE:
      return slot_in<wire::Prepare>(envelope.payload());
    case wire::COMMIT:
      return slot_in<wire::Commit>(envelope.payload());
    case wire::COMMIT_CERTIFICATE: {
      wire::CommitCertificate certificate;
      if (!certificate.ParseFromString(envelope.payload())) return std::nullopt;
      return slot_in<wire::PrePrepare>(certificate.pre_prepare().payload());
    }
    default:
      return std::nullopt;
  }
}

}  // namespace phalanx::pbft
