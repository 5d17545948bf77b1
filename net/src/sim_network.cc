#include "phalanx/net/sim_network.h"

#include <algorithm>

#include "phalanx/base/assert.h"

namespace phalanx::net {

SimNetwork::SimNetwork(std::size_t nodes, std::uint64_t seed, LinkRule rule,
                       std::size_t in_flight_max)
    : nodes_(nodes),
      in_flight_max_(in_flight_max),
      rng_(seed),
      rules_(nodes * nodes, rule),
      group_(nodes, 0),
      cut_(nodes * nodes, false),
      isolated_(nodes, false) {
  PHALANX_ASSERT(nodes > 0, "a network has at least one node");
  PHALANX_ASSERT(rule.latency_min_ns <= rule.latency_max_ns, "latency min above max");
}

std::size_t SimNetwork::link(NodeId from, NodeId to) const {
  PHALANX_ASSERT(from < nodes_ && to < nodes_, "node id out of range");
  return static_cast<std::size_t>(from) * nodes_ + to;
}

void SimNetwork::set_rule(const LinkRule& rule) {
  PHALANX_ASSERT(rule.latency_min_ns <= rule.latency_max_ns, "latency min above max");
  std::fill(rules_.begin(), rules_.end(), rule);
}

void SimNetwork::set_link_rule(NodeId from, NodeId to, const LinkRule& rule) {
  PHALANX_ASSERT(rule.latency_min_ns <= rule.latency_max_ns, "latency min above max");
  rules_[link(from, to)] = rule;
}

void SimNetwork::set_node_rule(NodeId node, const LinkRule& rule) {
  for (NodeId other = 0; other < nodes_; ++other) {
    set_link_rule(node, other, rule);
    set_link_rule(other, node, rule);
  }
}

const LinkRule& SimNetwork::link_rule(NodeId from, NodeId to) const {
  return rules_[link(from, to)];
}

void SimNetwork::partition(const std::vector<std::vector<NodeId>>& groups) {
  // Group 0 is "named in no group"; listed groups are numbered from 1.
  std::fill(group_.begin(), group_.end(), 0);
  for (std::size_t index = 0; index < groups.size(); ++index) {
    for (NodeId node : groups[index]) {
      PHALANX_ASSERT(node < nodes_, "node id out of range");
      group_[node] = static_cast<std::uint32_t>(index + 1);
    }
  }
}

void SimNetwork::cut(NodeId from, NodeId to) {
  cut_[link(from, to)] = true;
}

void SimNetwork::isolate(NodeId node) {
  PHALANX_ASSERT(node < nodes_, "node id out of range");
  isolated_[node] = true;
}

void SimNetwork::reconnect(NodeId node) {
  PHALANX_ASSERT(node < nodes_, "node id out of range");
  isolated_[node] = false;
}

void SimNetwork::heal() {
  std::fill(group_.begin(), group_.end(), 0);
  std::fill(cut_.begin(), cut_.end(), false);
  std::fill(isolated_.begin(), isolated_.end(), false);
}

bool SimNetwork::connected(NodeId from, NodeId to) const {
  return !isolated_[from] && !isolated_[to] && group_[from] == group_[to] && !cut_[link(from, to)];
}

std::uint64_t SimNetwork::draw_latency(const LinkRule& rule) {
  return rng_.uniform(rule.latency_min_ns, rule.latency_max_ns);
}

SendOutcome SimNetwork::send(NodeId from, NodeId to, std::shared_ptr<const std::string> bytes,
                             std::uint64_t now_ns) {
  PHALANX_ASSERT(bytes != nullptr, "sending no bytes");
  ++counters_.sent;
  if (!connected(from, to)) {
    ++counters_.cut;
    return SendOutcome::kCut;
  }
  const LinkRule& rule = rules_[link(from, to)];
  if (rng_.chance(rule.drop_probability)) {
    ++counters_.dropped;
    return SendOutcome::kDropped;
  }
  SendOutcome outcome = enqueue(from, to, bytes, now_ns, now_ns + draw_latency(rule));
  if (rng_.chance(rule.duplicate_probability)) {
    ++counters_.duplicated;
    enqueue(from, to, std::move(bytes), now_ns, now_ns + draw_latency(rule));
  }
  return outcome;
}

SendOutcome SimNetwork::enqueue(NodeId from, NodeId to, std::shared_ptr<const std::string> bytes,
                                std::uint64_t sent_ns, std::uint64_t at_ns) {
  if (queue_.size() >= in_flight_max_) {
    ++counters_.overflow;
    return SendOutcome::kOverflow;
  }
  queue_.push(Delivery{at_ns, next_order_++, from, to, std::move(bytes), sent_ns});
  return SendOutcome::kQueued;
}

std::optional<std::uint64_t> SimNetwork::next_delivery_at() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().at_ns;
}

std::optional<Delivery> SimNetwork::pop(std::uint64_t now_ns) {
  while (!queue_.empty() && queue_.top().at_ns <= now_ns) {
    Delivery delivery = queue_.top();
    queue_.pop();
    if (!connected(delivery.from, delivery.to)) {
      ++counters_.cut;
      continue;
    }
    ++counters_.delivered;
    return delivery;
  }
  return std::nullopt;
}

}  // namespace phalanx::net
