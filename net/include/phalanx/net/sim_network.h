#pragma once
// net::SimNetwork: a simulated network between numbered nodes, for deterministic tests.
//
// It moves opaque byte strings; it knows nothing of what they mean. Every random choice
// (loss, latency, duplication) comes from one Rng seeded at construction, so the same seed
// and the same sequence of calls give the same deliveries, in the same order, every run.
//
// Faults, all changeable at any point of a run:
// - per directed link (from -> to): latency drawn uniformly in [min, max] for each message
//   (which also reorders messages), drop probability, duplicate probability;
// - partitions (nodes in different groups cannot talk), one-way cuts (from -> to lost,
//   to -> from intact), isolation of a node; heal() removes them all (link rules stay).
// Connectivity is checked when a message is sent and again when it is delivered: a
// message in flight when its link goes down is lost, as on a real cut.
//
// Time is std::uint64_t nanoseconds on the caller's (simulated) clock. The caller pops
// deliveries in time order; deliveries due at the same instant come out in the order they
// were enqueued, which keeps runs deterministic.
//
// Thread-safety: none; one thread owns a SimNetwork.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "phalanx/net/rng.h"

namespace phalanx::net {

using NodeId = std::uint32_t;

inline constexpr std::uint64_t kSimMillisecond = 1'000'000;  // nanoseconds

// What happens to messages on one directed link.
struct LinkRule {
  std::uint64_t latency_min_ns = 1 * kSimMillisecond;
  std::uint64_t latency_max_ns = 1 * kSimMillisecond;
  double drop_probability = 0;
  double duplicate_probability = 0;  // each message is sent at most twice
};

struct NetworkCounters {
  std::uint64_t sent = 0;        // send() calls
  std::uint64_t dropped = 0;     // lost to a link's drop probability
  std::uint64_t cut = 0;         // lost to a partition, one-way cut or isolation
  std::uint64_t overflow = 0;    // lost because in_flight_max messages were in flight
  std::uint64_t duplicated = 0;  // extra copies enqueued
  std::uint64_t delivered = 0;   // popped by the caller
};

struct Delivery {
  std::uint64_t at_ns = 0;
  std::uint64_t order = 0;  // enqueue counter: ties at one instant come out in this order
  NodeId from = 0;
  NodeId to = 0;
  std::shared_ptr<const std::string> bytes;
  std::uint64_t sent_at_ns = 0;
};

// What became of one send().
enum class SendOutcome { kQueued, kDropped, kCut, kOverflow };

class SimNetwork {
 public:
  // Bounds memory when a test floods the network; beyond it messages are lost (counted).
  static constexpr std::size_t kInFlightMaxDefault = 1'000'000;

  SimNetwork(std::size_t nodes, std::uint64_t seed, LinkRule rule = {},
             std::size_t in_flight_max = kInFlightMaxDefault);

  std::size_t nodes() const { return nodes_; }

  // Link rules. set_rule changes every link; the others one link or a node's links.
  void set_rule(const LinkRule& rule);
  void set_link_rule(NodeId from, NodeId to, const LinkRule& rule);
  void set_node_rule(NodeId node, const LinkRule& rule);  // links to and from `node`
  const LinkRule& link_rule(NodeId from, NodeId to) const;

  // Connectivity faults.
  // Nodes in different groups cannot talk; nodes named in no group form one more group.
  // Replaces any earlier partition.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void cut(NodeId from, NodeId to);  // one way: from -> to is lost
  void isolate(NodeId node);         // every link to and from `node` is lost
  void reconnect(NodeId node);       // undoes isolate(node)
  void heal();                       // no partition, no cuts, no isolation
  bool connected(NodeId from, NodeId to) const;

  // Enqueues `bytes` from -> to, sent at `now_ns`, as the link's rule says (a duplicate,
  // if the rule makes one, is not reported).
  SendOutcome send(NodeId from, NodeId to, std::shared_ptr<const std::string> bytes,
                   std::uint64_t now_ns);

  bool idle() const { return queue_.empty(); }
  std::size_t in_flight() const { return queue_.size(); }
  // When the next delivery is due (whether or not its link is still up).
  std::optional<std::uint64_t> next_delivery_at() const;
  // The next delivery due at or before `now_ns`, skipping (and counting) those whose link
  // went down while they were in flight; nullopt when none is due.
  std::optional<Delivery> pop(std::uint64_t now_ns);

  const NetworkCounters& counters() const { return counters_; }

 private:
  struct Later {
    bool operator()(const Delivery& a, const Delivery& b) const {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.order > b.order;
    }
  };

  std::size_t link(NodeId from, NodeId to) const;
  SendOutcome enqueue(NodeId from, NodeId to, std::shared_ptr<const std::string> bytes,
                      std::uint64_t sent_ns, std::uint64_t at_ns);
  std::uint64_t draw_latency(const LinkRule& rule);

  std::size_t nodes_;
  std::size_t in_flight_max_;
  Rng rng_;
  std::vector<LinkRule> rules_;       // by link(from, to)
  std::vector<std::uint32_t> group_;  // by node; equal groups can talk
  std::vector<bool> cut_;             // by link(from, to)
  std::vector<bool> isolated_;        // by node
  std::priority_queue<Delivery, std::vector<Delivery>, Later> queue_;
  std::uint64_t next_order_ = 0;
  NetworkCounters counters_;
};

}  // namespace phalanx::net
