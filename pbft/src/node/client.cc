#include "phalanx/node/client.h"

#include <chrono>
#include <utility>

namespace phalanx::pbft {

namespace {
// The client key and request id a reply claims, read without checking its signature; or
// nullopt when it does not decode as a reply.
std::optional<std::pair<crypto::PublicKey, RequestId>> claimed_reply(const std::string& bytes) {
  wire::Envelope envelope;
  wire::Reply reply;
  if (!envelope.ParseFromString(bytes) || envelope.kind() != wire::REPLY ||
      !reply.ParseFromString(envelope.payload()))
    return std::nullopt;
  auto key = crypto::PublicKey::from_bytes(reply.client_key());
  if (!key) return std::nullopt;
  return std::make_pair(*key, RequestId{reply.request_id()});
}

RequestId first_request_id() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  return micros > 0 ? static_cast<RequestId>(micros) : 1;
}
}  // namespace

Client::Client(ClientSettings settings, crypto::SecretKey key,
               std::unique_ptr<net::Transport> transport, std::shared_ptr<const net::Clock> clock)
    : settings_(std::move(settings)), transport_(std::move(transport)), clock_(std::move(clock)) {
  PHALANX_ASSERT(settings_.identities > 0, "a client needs at least one identity");
  RequestId first = first_request_id();
  for (std::size_t i = 0; i < settings_.identities; ++i) {
    auto core = std::make_unique<ClientCore>(settings_.verifier, key.derive_child(i),
                                             settings_.options, first);
    by_key_[core->public_key()] = i;
    slots_.push_back(Slot{std::move(core), nullptr, 0});
  }
  thread_ = std::thread([this] { run(); });
}

Client::~Client() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  transport_->wake();
  thread_.join();
}

std::future<Result<Bytes>> Client::submit(Bytes operation,
                                          std::optional<std::chrono::milliseconds> timeout) {
  auto promise = std::make_shared<std::promise<Result<Bytes>>>();
  auto future = promise->get_future();
  submit(
      std::move(operation),
      [promise](Result<Bytes> outcome) { promise->set_value(std::move(outcome)); }, timeout);
  return future;
}

void Client::submit(Bytes operation, Done done, std::optional<std::chrono::milliseconds> timeout) {
  std::optional<Error> refused;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || waiting_.size() >= settings_.queue_max) {
      refused =
          Error{stopping_ ? "client is shutting down" : "client queue full (queue_max requests)"};
    } else {
      ++stats_.submitted;
      waiting_.push_back(
          Submission{std::move(operation), timeout.value_or(settings_.timeout), std::move(done)});
    }
  }
  if (refused) {
    done(std::move(*refused));  // outside the lock: `done` may submit again
    return;
  }
  // The client thread may be waiting for replies; have it start this one now. (From the
  // client's own thread, in a `done`, this only costs the next receive its wait.)
  transport_->wake();
}

Result<Bytes> Client::call(Bytes operation, std::optional<std::chrono::milliseconds> timeout) {
  return submit(std::move(operation), timeout).get();
}

ClientStats Client::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Client::run() {
  std::vector<net::Inbound> inbound;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    start_waiting_submissions();
    std::uint64_t now = clock_->now_ns();
    std::uint64_t wakeup = next_wakeup();
    auto wait = std::chrono::milliseconds(
        wakeup > now ? std::min<std::uint64_t>((wakeup - now) / 1'000'000 + 1, 5) : 0);
    inbound.clear();
    transport_->receive(inbound, 256, wait);
    for (auto& message : inbound) handle(message);
    now = clock_->now_ns();
    for (auto& slot : slots_)
      if (slot.done && now >= slot.core->next_deadline()) carry_out(slot, slot.core->on_tick(now));
    expire(now);
  }
  // Fail whatever is left, so no caller waits for ever (outside the lock: a `done` may
  // submit again, and is refused).
  for (auto& slot : slots_)
    if (slot.done) std::exchange(slot.done, nullptr)(Error{"client is shutting down"});
  std::deque<Submission> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(waiting_);
  }
  for (auto& submission : left) submission.done(Error{"client is shutting down"});
}

void Client::start_waiting_submissions() {
  for (auto& slot : slots_) {
    if (slot.done) continue;
    Submission submission;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) return;
      submission = std::move(waiting_.front());
      waiting_.pop_front();
    }
    std::uint64_t now = clock_->now_ns();
    slot.done = std::move(submission.done);
    slot.deadline_ns =
        now + std::chrono::duration_cast<std::chrono::nanoseconds>(submission.timeout).count();
    carry_out(slot, slot.core->submit(std::move(submission.operation), now));
  }
}

void Client::handle(net::Inbound& inbound) {
  // A reply to a request that completed already (f+1 replies suffice; the other replicas'
  // arrive later) or was abandoned cannot count: skip its signature check, the largest
  // cost of a client. A reply that does not decode goes on, to be rejected and counted.
  // A reply for one of our identities is opened with that identity's keys (its MAC keys).
  const Verifier* verifier = &settings_.verifier;
  if (auto claimed = claimed_reply(inbound.bytes)) {
    auto found = by_key_.find(claimed->first);
    if (found != by_key_.end() && !slots_[found->second].core->awaits(claimed->second)) {
      std::lock_guard lock(mutex_);
      ++stats_.late_replies;
      return;
    }
    if (found != by_key_.end()) verifier = &slots_[found->second].core->verifier();
  }
  Opened opened = open_envelope(inbound.bytes, *verifier, Audience::kClient);
  if (!opened.ok()) {
    std::lock_guard lock(mutex_);
    ++stats_.rejected_replies;
    return;
  }
  const auto& reply = std::get<wire::Reply>(opened.message->body);
  auto key = crypto::PublicKey::from_bytes(reply.client_key());
  auto found = key ? by_key_.find(*key) : by_key_.end();
  if (found == by_key_.end()) return;  // not one of ours
  Slot& slot = slots_[found->second];
  carry_out(slot, slot.core->on_reply(*opened.message, clock_->now_ns()));
}

void Client::carry_out(Slot& slot, ClientActions actions) {
  std::uint32_t n = settings_.verifier.quorums().n;
  for (const auto& outgoing : actions.send) {
    if (outgoing.to) {
      transport_->send_to_node(*outgoing.to, outgoing.envelope);
      continue;
    }
    for (ReplicaId replica = 0; replica < n; ++replica)
      transport_->send_to_node(replica, outgoing.envelope);
  }
  if (actions.completed && slot.done) {
    // Count first: a caller that got its result must see it in stats().
    {
      std::lock_guard lock(mutex_);
      ++stats_.completed;
    }
    // Free the slot before calling: `done` may submit again.
    std::exchange(slot.done, nullptr)(std::move(actions.completed->result));
  }
}

void Client::expire(std::uint64_t now) {
  for (auto& slot : slots_) {
    if (!slot.done || now < slot.deadline_ns) continue;
    slot.core->abandon();
    {
      std::lock_guard lock(mutex_);
      ++stats_.timed_out;
    }
    std::exchange(slot.done, nullptr)(Error{"no f+1 matching replies before the deadline"});
  }
}

std::uint64_t Client::next_wakeup() const {
  std::uint64_t wakeup = ~std::uint64_t{0};
  for (const auto& slot : slots_) {
    if (!slot.done) continue;
    wakeup = std::min({wakeup, slot.deadline_ns, slot.core->next_deadline()});
  }
  return wakeup;
}

}  // namespace phalanx::pbft
