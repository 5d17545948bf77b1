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
  Factory make;
};
constexpr Entry kBehaviours[] = {
    {"corrupt-chunks", &make_corrupt_chunks},
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
  for (const auto& entry : kBehaviours) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  return Error{"unknown Byzantine behaviour '" + std::string(name) + "' (known: " + known + ")"};
}

}  // namespace phalanx::adversary
