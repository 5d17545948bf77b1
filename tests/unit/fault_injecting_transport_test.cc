// net::FaultInjectingTransport (net/fault_injecting_transport.h): the spec a replica's
// --inject-faults reads, and what the decorator does over an in-memory transport: loses,
// duplicates and delays as set, bounds what it holds, passes everything through when
// nothing is set, and decides the same way for the same seed.
//
// Timing: messages are checked never to arrive before their delay; no test bounds how
// late they arrive (beyond a generous wait), since a loaded machine may be slow.
#include "phalanx/net/fault_injecting_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace phalanx::net {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- The spec ----

FaultInjection parsed(const std::string& spec) {
  auto faults = parse_fault_injection(spec);
  EXPECT_TRUE(faults.ok()) << spec << ": " << (faults.ok() ? "" : faults.error().message);
  return faults.ok() ? faults.value() : FaultInjection{};
}

std::string error_of(const std::string& spec) {
  auto faults = parse_fault_injection(spec);
  EXPECT_FALSE(faults.ok()) << "expected '" << spec << "' to be refused";
  return faults.ok() ? "" : faults.error().message;
}

TEST(FaultSpec, ReadsEveryKey) {
  FaultInjection faults = parsed(
      "delay=5ms,jitter=10ms,loss=0.05,dup=0.01,seed=7,clients=on,inbound=on,queue=50,"
      "queue_bytes=4096");
  EXPECT_EQ(faults.delay_us, 5000u);
  EXPECT_EQ(faults.jitter_us, 10000u);
  EXPECT_DOUBLE_EQ(faults.loss_probability, 0.05);
  EXPECT_DOUBLE_EQ(faults.duplicate_probability, 0.01);
  EXPECT_EQ(faults.seed, 7u);
  EXPECT_TRUE(faults.clients);
  EXPECT_TRUE(faults.inbound);
  EXPECT_EQ(faults.held_max, 50u);
  EXPECT_EQ(faults.held_bytes_max, 4096u);
}

TEST(FaultSpec, UnnamedKeysKeepTheDefaults) {
  FaultInjection faults = parsed("loss=0.1");
  FaultInjection defaults;
  EXPECT_DOUBLE_EQ(faults.loss_probability, 0.1);
  EXPECT_EQ(faults.delay_us, 0u);
  EXPECT_EQ(faults.seed, defaults.seed);
  EXPECT_FALSE(faults.clients);
  EXPECT_FALSE(faults.inbound);
  EXPECT_EQ(faults.held_max, FaultInjection::kHeldMaxDefault);
}

TEST(FaultSpec, DurationsTakeTheirUnit) {
  EXPECT_EQ(parsed("delay=250us").delay_us, 250u);
  EXPECT_EQ(parsed("delay=1.5ms").delay_us, 1500u);
  EXPECT_EQ(parsed("delay=2s").delay_us, 2'000'000u);
  EXPECT_EQ(parsed("delay=0").delay_us, 0u);
  EXPECT_EQ(parsed("delay=60s").delay_us, FaultInjection::kDelayUsMax);
}

TEST(FaultSpec, NoneAndSpacesAndBoundaryProbabilities) {
  EXPECT_FALSE(parsed("none").active());
  EXPECT_FALSE(parsed("loss=0,dup=0,delay=0,jitter=0").active());
  FaultInjection faults = parsed(" loss = 1 , dup=0 ");
  EXPECT_DOUBLE_EQ(faults.loss_probability, 1.0);
  EXPECT_TRUE(faults.active());
}

TEST(FaultSpec, RefusesWhatIsWrongAndNamesIt) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("lose=0.1").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("loss=1.5").find("'loss=1.5'"), std::string::npos);
  EXPECT_NE(error_of("loss=-0.1").find("probability"), std::string::npos);
  EXPECT_NE(error_of("loss=nan").find("probability"), std::string::npos);
  EXPECT_NE(error_of("loss=0.1x").find("probability"), std::string::npos);
  EXPECT_NE(error_of("dup=2").find("'dup=2'"), std::string::npos);
  EXPECT_NE(error_of("delay=5").find("unit"), std::string::npos);
  EXPECT_NE(error_of("delay=5min").find("duration"), std::string::npos);
  EXPECT_NE(error_of("delay=-5ms").find("duration"), std::string::npos);
  EXPECT_NE(error_of("delay=ms").find("'delay=ms'"), std::string::npos);
  EXPECT_NE(error_of("delay=61s").find("limit"), std::string::npos);
  EXPECT_NE(error_of("delay=40s,jitter=30s").find("limit"), std::string::npos);
  EXPECT_NE(error_of("seed=-1").find("unsigned"), std::string::npos);
  EXPECT_NE(error_of("clients=yes").find("on or off"), std::string::npos);
  EXPECT_NE(error_of("queue=0").find("above 0"), std::string::npos);
  EXPECT_NE(error_of("loss").find("key=value"), std::string::npos);
  EXPECT_NE(error_of("loss=0.1,").find("key=value"), std::string::npos);
  EXPECT_NE(error_of("loss=0.1,loss=0.2").find("twice"), std::string::npos);
}

TEST(FaultSpec, DescribesWhatIsActive) {
  EXPECT_EQ(describe(FaultInjection{}), "no faults (pass-through)");
  std::string line = describe(parsed("delay=5ms,jitter=10ms,loss=0.05,seed=7,inbound=on"));
  EXPECT_NE(line.find("delay 5 ms + up to 10 ms jitter"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 0.05"), std::string::npos) << line;
  EXPECT_NE(line.find("both ways"), std::string::npos) << line;
  EXPECT_NE(line.find("seed 7"), std::string::npos) << line;
}

// ---- The transport, over an in-memory one ----

// What reached the inner transport, in order, with when it did; and what it has to give
// to receive(). Shared with the test, so that it outlives the decorator.
struct Wire {
  struct Sent {
    bool to_node = true;
    std::uint64_t target = 0;
    std::string bytes;
    Clock::time_point at;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Sent> sent;        // guarded by mutex
  std::deque<Inbound> arriving;  // guarded by mutex

  std::size_t sent_count() {
    std::lock_guard lock(mutex);
    return sent.size();
  }
  std::vector<Sent> sent_copy() {
    std::lock_guard lock(mutex);
    return sent;
  }
  // Waits (generously) until `count` messages were sent; false if they never were.
  bool await_sent(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(30), [&] { return sent.size() >= count; });
  }
  void arrive(Inbound inbound) {
    std::lock_guard lock(mutex);
    arriving.push_back(std::move(inbound));
  }
};

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(std::shared_ptr<Wire> wire) : wire_(std::move(wire)) {}
  bool send_to_node(NodeId to, SharedBytes bytes) override { return record(true, to, *bytes); }
  bool send_to_connection(std::uint64_t connection, SharedBytes bytes) override {
    return record(false, connection, *bytes);
  }
  std::size_t receive(std::vector<Inbound>& out, std::size_t max, milliseconds timeout) override {
    std::unique_lock lock(wire_->mutex);
    wire_->changed.wait_for(lock, timeout, [&] { return !wire_->arriving.empty(); });
    std::size_t moved = 0;
    for (; moved < max && !wire_->arriving.empty(); ++moved) {
      out.push_back(std::move(wire_->arriving.front()));
      wire_->arriving.pop_front();
    }
    return moved;
  }
  TransportStats stats() const override { return {}; }

 private:
  bool record(bool to_node, std::uint64_t target, const std::string& bytes) {
    {
      std::lock_guard lock(wire_->mutex);
      wire_->sent.push_back({to_node, target, bytes, Clock::now()});
    }
    wire_->changed.notify_all();
    return true;
  }
  std::shared_ptr<Wire> wire_;
};

struct Rig {
  explicit Rig(const std::string& spec, std::uint64_t stream = 0)
      : wire(std::make_shared<Wire>()),
        transport(std::make_unique<FaultInjectingTransport>(std::make_unique<MemoryTransport>(wire),
                                                            parsed(spec), stream)) {}
  std::shared_ptr<Wire> wire;
  std::unique_ptr<FaultInjectingTransport> transport;
};

SharedBytes message(std::size_t index) {
  return std::make_shared<const std::string>("message-" + std::to_string(index));
}

std::vector<std::string> bytes_of(const std::vector<Wire::Sent>& sent) {
  std::vector<std::string> bytes;
  for (const auto& one : sent) bytes.push_back(one.bytes);
  return bytes;
}

TEST(FaultInjectingTransport, NoFaultsPassesEverythingThroughInOrder) {
  Rig rig("none");
  for (std::size_t i = 0; i < 100; ++i) EXPECT_TRUE(rig.transport->send_to_node(i % 4, message(i)));
  EXPECT_TRUE(rig.transport->send_to_connection(42, message(100)));
  auto sent = rig.wire->sent_copy();  // at once: nothing is held
  ASSERT_EQ(sent.size(), 101u);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sent[i].bytes, *message(i));
    EXPECT_EQ(sent[i].target, i % 4);
  }
  EXPECT_FALSE(sent[100].to_node);
  EXPECT_EQ(sent[100].target, 42u);

  rig.wire->arrive(Inbound{7, "from a client", std::nullopt});
  std::vector<Inbound> out;
  EXPECT_EQ(rig.transport->receive(out, 10, milliseconds(0)), 1u);
  EXPECT_EQ(out.at(0).bytes, "from a client");
  FaultStats stats = rig.transport->fault_stats();
  EXPECT_EQ(stats.lost + stats.duplicated + stats.delayed + stats.overflowed, 0u);
}

TEST(FaultInjectingTransport, LosesAboutTheSetShareOfMessages) {
  Rig rig("loss=0.2,seed=11");
  const std::size_t count = 20'000;
  for (std::size_t i = 0; i < count; ++i)
    EXPECT_TRUE(rig.transport->send_to_node(1, message(i)));  // a loss is not reported
  std::size_t delivered = rig.wire->sent_count();
  EXPECT_EQ(rig.transport->fault_stats().lost, count - delivered);
  // Binomial: the standard deviation of the share is 0.003; 0.02 is ~7 of them (and with
  // a fixed seed the figure is the same every run anyway).
  double lost_share = 1.0 - static_cast<double>(delivered) / count;
  EXPECT_NEAR(lost_share, 0.2, 0.02);
}

TEST(FaultInjectingTransport, LossOneLosesEverythingToReplicas) {
  Rig rig("loss=1");
  for (std::size_t i = 0; i < 100; ++i) rig.transport->send_to_node(0, message(i));
  EXPECT_EQ(rig.wire->sent_count(), 0u);
  EXPECT_EQ(rig.transport->fault_stats().lost, 100u);
}

TEST(FaultInjectingTransport, DuplicatesAreDeliveredTwice) {
  Rig rig("dup=1");
  for (std::size_t i = 0; i < 50; ++i) rig.transport->send_to_node(2, message(i));
  auto sent = bytes_of(rig.wire->sent_copy());
  ASSERT_EQ(sent.size(), 100u);
  for (std::size_t i = 0; i < 50; ++i)
    EXPECT_EQ(std::count(sent.begin(), sent.end(), *message(i)), 2);
  EXPECT_EQ(rig.transport->fault_stats().duplicated, 50u);
}

TEST(FaultInjectingTransport, SomeDuplicatesAtTheSetRate) {
  Rig rig("dup=0.3,seed=5");
  const std::size_t count = 10'000;
  for (std::size_t i = 0; i < count; ++i) rig.transport->send_to_node(2, message(i));
  std::uint64_t duplicated = rig.transport->fault_stats().duplicated;
  EXPECT_EQ(rig.wire->sent_count(), count + duplicated);
  EXPECT_NEAR(static_cast<double>(duplicated) / count, 0.3, 0.03);
}

TEST(FaultInjectingTransport, NoMessageArrivesBeforeItsDelay) {
  Rig rig("delay=40ms,jitter=20ms,dup=0.5,seed=3");
  const std::size_t count = 50;
  std::vector<Clock::time_point> sent_at;
  for (std::size_t i = 0; i < count; ++i) {
    sent_at.push_back(Clock::now());
    EXPECT_TRUE(rig.transport->send_to_node(1, message(i)));
  }
  std::uint64_t copies = count + rig.transport->fault_stats().duplicated;
  ASSERT_TRUE(rig.wire->await_sent(copies));
  for (const auto& sent : rig.wire->sent_copy()) {
    std::size_t index = std::stoul(sent.bytes.substr(sent.bytes.find('-') + 1));
    EXPECT_GE(sent.at - sent_at.at(index), milliseconds(40)) << sent.bytes;
  }
  FaultStats stats = rig.transport->fault_stats();
  EXPECT_EQ(stats.delayed, copies);
  EXPECT_EQ(stats.held, 0u);
  EXPECT_EQ(stats.held_bytes, 0u);
}

TEST(FaultInjectingTransport, JitterReordersMessages) {
  Rig rig("delay=1ms,jitter=50ms,seed=9");
  const std::size_t count = 200;
  for (std::size_t i = 0; i < count; ++i) rig.transport->send_to_node(1, message(i));
  ASSERT_TRUE(rig.wire->await_sent(count));
  auto sent = bytes_of(rig.wire->sent_copy());
  std::vector<std::string> in_order;
  for (std::size_t i = 0; i < count; ++i) in_order.push_back(*message(i));
  EXPECT_NE(sent, in_order);
  std::sort(sent.begin(), sent.end());
  std::sort(in_order.begin(), in_order.end());
  EXPECT_EQ(sent, in_order);  // reordered, nothing lost or added
}

TEST(FaultInjectingTransport, AFullQueueDropsAndCounts) {
  Rig rig("delay=30s,queue=10");
  for (std::size_t i = 0; i < 10; ++i) EXPECT_TRUE(rig.transport->send_to_node(1, message(i)));
  for (std::size_t i = 10; i < 25; ++i) EXPECT_FALSE(rig.transport->send_to_node(1, message(i)));
  FaultStats stats = rig.transport->fault_stats();
  EXPECT_EQ(stats.delayed, 10u);
  EXPECT_EQ(stats.overflowed, 15u);
  EXPECT_EQ(stats.held, 10u);
  EXPECT_EQ(rig.wire->sent_count(), 0u);
  rig.transport.reset();  // stops without waiting out the 30 s: what is held is dropped
  EXPECT_EQ(rig.wire->sent_count(), 0u);
}

TEST(FaultInjectingTransport, TheByteBoundDropsToo) {
  Rig rig("delay=30s,queue_bytes=100");
  auto big = std::make_shared<const std::string>(60, 'x');
  EXPECT_TRUE(rig.transport->send_to_node(1, big));
  EXPECT_FALSE(rig.transport->send_to_node(1, big));  // 120 bytes would be over 100
  EXPECT_TRUE(rig.transport->send_to_node(1, message(0)));
  EXPECT_EQ(rig.transport->fault_stats().overflowed, 1u);
  EXPECT_EQ(rig.transport->fault_stats().held_bytes, 60u + message(0)->size());
}

TEST(FaultInjectingTransport, ClientsAreSparedUnlessAsked) {
  Rig spared("loss=1");
  EXPECT_TRUE(spared.transport->send_to_connection(5, message(0)));
  EXPECT_EQ(spared.wire->sent_count(), 1u);

  Rig included("loss=1,clients=on");
  EXPECT_TRUE(included.transport->send_to_connection(5, message(0)));
  EXPECT_EQ(included.wire->sent_count(), 0u);
}

TEST(FaultInjectingTransport, InboundIsUntouchedUnlessAsked) {
  Rig rig("loss=1");
  rig.wire->arrive(Inbound{1, "from replica 3", NodeId{3}});
  std::vector<Inbound> out;
  EXPECT_EQ(rig.transport->receive(out, 10, milliseconds(0)), 1u);
}

TEST(FaultInjectingTransport, InboundLossSparesClientsUnlessAsked) {
  Rig rig("loss=1,inbound=on");
  rig.wire->arrive(Inbound{1, "from replica 3", NodeId{3}});
  rig.wire->arrive(Inbound{2, "from a client", std::nullopt});
  std::vector<Inbound> out;
  EXPECT_EQ(rig.transport->receive(out, 10, milliseconds(0)), 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, "from a client");
  EXPECT_EQ(rig.transport->fault_stats().lost, 1u);
}

TEST(FaultInjectingTransport, InboundDelayIsRespectedAndReceiveWaitsForIt) {
  Rig rig("delay=40ms,inbound=on");
  rig.wire->arrive(Inbound{1, "late", NodeId{2}});
  Clock::time_point start = Clock::now();
  std::vector<Inbound> out;
  // The first receive takes it from the inner transport and holds it; later ones hand it
  // over once due. A long timeout: receive must return when it is due, not at the timeout.
  Clock::time_point deadline = start + std::chrono::seconds(30);
  while (out.empty() && Clock::now() < deadline)
    rig.transport->receive(out, 10, std::chrono::seconds(5));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_GE(Clock::now() - start, milliseconds(40));
  EXPECT_EQ(out[0].bytes, "late");
  EXPECT_EQ(out[0].node, NodeId{2});
}

TEST(FaultInjectingTransport, InboundDuplicatesBeyondMaxWaitForTheNextReceive) {
  Rig rig("dup=1,inbound=on");
  rig.wire->arrive(Inbound{1, "twice", NodeId{2}});
  std::vector<Inbound> out;
  EXPECT_EQ(rig.transport->receive(out, 1, milliseconds(0)), 1u);
  EXPECT_EQ(rig.transport->receive(out, 1, milliseconds(0)), 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, "twice");
  EXPECT_EQ(out[1].bytes, "twice");
}

// The order of what reaches the inner transport for one seed and stream: no delay, so the
// decisions alone shape it.
std::vector<std::string> outcome(const std::string& spec, std::uint64_t stream = 0) {
  Rig rig(spec, stream);
  for (std::size_t i = 0; i < 2000; ++i) rig.transport->send_to_node(i % 3, message(i));
  return bytes_of(rig.wire->sent_copy());
}

TEST(FaultInjectingTransport, TheSameSeedDecidesTheSameWay) {
  std::string spec = "loss=0.3,dup=0.2,seed=42";
  EXPECT_EQ(outcome(spec), outcome(spec));
  EXPECT_NE(outcome(spec), outcome("loss=0.3,dup=0.2,seed=43"));
  EXPECT_NE(outcome(spec, 0), outcome(spec, 1));  // each replica its own stream
}

TEST(FaultInjectingTransport, LossDecisionsDoNotDependOnTheOtherSettings) {
  // Separate streams: the same messages are lost whether or not duplicates are made.
  auto lost_ones = [](const std::string& spec) {
    std::vector<std::string> sent = outcome(spec);
    std::vector<std::string> lost;
    for (std::size_t i = 0; i < 2000; ++i)
      if (std::find(sent.begin(), sent.end(), *message(i)) == sent.end())
        lost.push_back(*message(i));
    return lost;
  };
  EXPECT_EQ(lost_ones("loss=0.3,seed=8"), lost_ones("loss=0.3,dup=0.5,seed=8"));
}

TEST(FaultInjectingTransport, SendersOnManyThreadsLoseNothingExtra) {
  Rig rig("delay=1ms,jitter=2ms,dup=0.1,seed=4");
  const std::size_t per_thread = 500;
  std::vector<std::thread> senders;
  for (std::size_t t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_thread; ++i)
        rig.transport->send_to_node(1, message(t * per_thread + i));
    });
  for (auto& sender : senders) sender.join();
  std::uint64_t copies = 4 * per_thread + rig.transport->fault_stats().duplicated;
  ASSERT_TRUE(rig.wire->await_sent(copies));
  EXPECT_EQ(rig.transport->fault_stats().held, 0u);
}

}  // namespace
}  // namespace phalanx::net
