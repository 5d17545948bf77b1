#include "phalanx/adversary/behaviour.h"

#include "behaviours/behaviours.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::adversary {

Behaviour::Behaviour(BehaviourContext context)
    : signer_(std::move(context.key)), context_(std::move(context)), rng_(context_.seed) {}

net::SharedBytes Behaviour::reseal(wire::Kind kind, Bytes payload) const {
  return std::make_shared<const Bytes>(pbft::encode(
      pbft::seal(signer_, context_.cluster_id, kind, context_.id, std::move(payload))));
}

namespace {
using Factory = Result<std::unique_ptr<Behaviour>> (*)(BehaviourContext);
struct Entry {
  std::string_view name;
  std::string_view description;  // one line; parameters and defaults in behaviour.h
  Factory make;
};
// One file each under behaviours/, whose opening comment says what it does and what the
// cluster must make of it.
constexpr Entry kBehaviours[] = {
    {"corrupt-chunks", "serves state-transfer chunks with flipped bytes, validly signed",
     &make_corrupt_chunks},
    {"equivocate", "tells side B other pre-prepares, votes and checkpoints than the others",
     &make_equivocate},
    {"forge", "sends forgeries the edge must reject: impersonation, bad signatures, ...",
     &make_forge},
    {"viewchange-liar", "lies in its VIEW-CHANGEs, or in its NEW-VIEW as the new primary",
     &make_viewchange_liar},
    {"replay", "sends old messages again, and copies signed for another cluster", &make_replay},
    {"mute", "sends nothing, to replicas or clients", &make_mute},
    {"selective", "sends only to some replicas (and clients only if asked)", &make_selective},
    {"slow", "holds each pre-prepare it sends as the primary for a while", &make_slow},
    {"corrupt", "changes a random byte of some messages after signing", &make_corrupt},
    {"flood", "floods the others with junk bytes and valid but useless messages", &make_flood},
    {"run-ahead", "as primary, also proposes far above the high watermark", &make_run_ahead},
};
}  // namespace

std::vector<std::string_view> behaviour_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : kBehaviours) names.push_back(entry.name);
  return names;
}

Result<std::unique_ptr<Behaviour>> make_behaviour(std::string_view name, BehaviourContext context) {
  for (const auto& entry : kBehaviours)
    if (entry.name == name) {
      auto made = entry.make(std::move(context));
      if (!made.ok()) return Error{std::string(name) + ": " + made.error().message};
      return made;
    }
  std::string known;
  for (const auto& entry : kBehaviours)
    known += (known.empty() ? "" : ", ") + std::string(entry.name);
  return Error{"unknown Byzantine behaviour '" + std::string(name) + "' (known: " + known + ")"};
}

}  // namespace phalanx::adversary
