#include "phalanx/net/fault_injecting_transport.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>

#include "phalanx/base/assert.h"

namespace phalanx::net {

// ---- The spec ----

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string format_probability(double probability) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", probability);
  return text;
}

std::string format_duration(std::uint64_t us) {
  if (us % 1000 != 0) return std::to_string(us) + " us";
  if (us % 1'000'000 != 0 || us == 0) return std::to_string(us / 1000) + " ms";
  return std::to_string(us / 1'000'000) + " s";
}

std::string format_bytes(std::size_t bytes) {
  if (bytes % (std::size_t{1} << 20) != 0) return std::to_string(bytes) + " bytes";
  return std::to_string(bytes >> 20) + " MiB";
}

// The whole of `text` as a finite double, or nothing.
std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

Result<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return Error{"not an unsigned integer"};
  return value;
}

Result<std::uint64_t> parse_duration_us(std::string_view text) {
  if (text == "0") return std::uint64_t{0};
  // Longest suffix first: "ms" and "us" both end in "s".
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"us", 1}, {"ms", 1e3}, {"s", 1e6}};
  for (auto [unit, us_per_unit] : kUnits) {
    if (text.size() <= unit.size() || !text.ends_with(unit)) continue;
    auto number = parse_number(text.substr(0, text.size() - unit.size()));
    if (!number || *number < 0) return Error{"not a duration"};
    double us = *number * us_per_unit;
    if (us > static_cast<double>(FaultInjection::kDelayUsMax))
      return Error{"above the limit of " + format_duration(FaultInjection::kDelayUsMax)};
    return static_cast<std::uint64_t>(std::llround(us));
  }
  return Error{"a duration needs a unit: us, ms or s"};
}

Result<double> parse_probability(std::string_view text) {
  auto number = parse_number(text);
  if (!number || *number < 0 || *number > 1) return Error{"not a probability in [0, 1]"};
  return *number;
}

Result<bool> parse_switch(std::string_view text) {
  if (text == "on") return true;
  if (text == "off") return false;
  return Error{"on or off"};
}

// Sets the field named by `key`; an Error says what is wrong with `value`.
Status apply_pair(FaultInjection& faults, std::string_view key, std::string_view value) {
  auto set = [](auto& field, auto parsed) -> Status {
    if (!parsed.ok()) return parsed.error();
    field = parsed.value();
    return ok_status();
  };
  if (key == "delay") return set(faults.delay_us, parse_duration_us(value));
  if (key == "jitter") return set(faults.jitter_us, parse_duration_us(value));
  if (key == "loss") return set(faults.loss_probability, parse_probability(value));
  if (key == "dup") return set(faults.duplicate_probability, parse_probability(value));
  if (key == "seed") return set(faults.seed, parse_unsigned(value));
  if (key == "clients") return set(faults.clients, parse_switch(value));
  if (key == "inbound") return set(faults.inbound, parse_switch(value));
  if (key == "queue") return set(faults.held_max, parse_unsigned(value));
  if (key == "queue_bytes") return set(faults.held_bytes_max, parse_unsigned(value));
  return Error{
      "unknown key (known: delay, jitter, loss, dup, seed, clients, inbound, queue, "
      "queue_bytes)"};
}

}  // namespace

Status validate(const FaultInjection& faults) {
  auto probability = [](double p) { return p >= 0 && p <= 1; };  // false for NaN too
  if (!probability(faults.loss_probability))
    return Error{"loss " + format_probability(faults.loss_probability) + " is not in [0, 1]"};
  if (!probability(faults.duplicate_probability))
    return Error{"dup " + format_probability(faults.duplicate_probability) + " is not in [0, 1]"};
  if (faults.delay_us > FaultInjection::kDelayUsMax ||
      faults.jitter_us > FaultInjection::kDelayUsMax - faults.delay_us)
    return Error{"delay + jitter is above the limit of " +
                 format_duration(FaultInjection::kDelayUsMax)};
  if (faults.held_max == 0 || faults.held_bytes_max == 0)
    return Error{"queue and queue_bytes must be above 0"};
  return ok_status();
}

Result<FaultInjection> parse_fault_injection(std::string_view spec) {
  spec = trimmed(spec);
  if (spec.empty()) return Error{"empty fault spec (write 'none' for no faults)"};
  FaultInjection faults;
  if (spec == "none") return faults;
  std::set<std::string_view> seen;
  // Every comma separates two pairs: "loss=0.1," has an empty second one, refused.
  for (std::size_t start = 0; start <= spec.size();) {
    std::size_t comma = std::min(spec.find(',', start), spec.size());
    std::string_view pair = trimmed(spec.substr(start, comma - start));
    start = comma + 1;
    std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos)
      return Error{"fault spec: '" + std::string(pair) + "' is not key=value"};
    std::string_view key = trimmed(pair.substr(0, equals));
    if (!seen.insert(key).second)
      return Error{"fault spec: '" + std::string(key) + "' is given twice"};
    if (Status applied = apply_pair(faults, key, trimmed(pair.substr(equals + 1))); !applied.ok())
      return Error{"fault spec: '" + std::string(pair) + "': " + applied.error().message};
  }
  if (Status valid = validate(faults); !valid.ok())
    return Error{"fault spec: " + valid.error().message};
  return faults;
}

std::string describe(const FaultInjection& faults) {
  if (!faults.active()) return "no faults (pass-through)";
  std::string text = "delay " + format_duration(faults.delay_us);
  if (faults.jitter_us > 0) text += " + up to " + format_duration(faults.jitter_us) + " jitter";
  text += ", loss " + format_probability(faults.loss_probability) + ", duplication " +
          format_probability(faults.duplicate_probability) + "; on messages to replicas";
  if (faults.clients) text += " and clients";
  text += faults.inbound ? ", both ways" : ", outbound only";
  text += "; seed " + std::to_string(faults.seed) + "; at most " + std::to_string(faults.held_max) +
          " messages (" + format_bytes(faults.held_bytes_max) + ") held";
  return text;
}

// ---- The transport ----

namespace {

using Clock = std::chrono::steady_clock;

// A stream of its own for each kind of decision of each transport.
Rng stream_of(std::uint64_t seed, std::uint64_t stream, std::uint64_t purpose) {
  return Rng(seed).fork(stream).fork(purpose);
}

}  // namespace

FaultInjectingTransport::FaultInjectingTransport(std::unique_ptr<Transport> inner,
                                                 FaultInjection faults, std::uint64_t stream)
    : inner_(std::move(inner)),
      faults_(faults),
      loss_rng_(stream_of(faults.seed, stream, 1)),
      duplicate_rng_(stream_of(faults.seed, stream, 2)),
      delay_rng_(stream_of(faults.seed, stream, 3)) {
  PHALANX_ASSERT(inner_ != nullptr, "FaultInjectingTransport needs a transport to wrap");
  PHALANX_ASSERT(validate(faults_).ok(), "FaultInjectingTransport with invalid settings");
  // Without a delay nothing is ever held outbound: no thread to release it.
  if (faults_.delay_us > 0 || faults_.jitter_us > 0)
    timer_ = std::thread([this] { release_due_outbound(); });
}

FaultInjectingTransport::~FaultInjectingTransport() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  outbound_changed_.notify_all();
  if (timer_.joinable()) timer_.join();
  // What is still held goes with the queues: a network that stops loses what is in it.
}

bool FaultInjectingTransport::send_to_node(NodeId to, SharedBytes bytes) {
  if (!faults_.active()) return inner_->send_to_node(to, std::move(bytes));
  return send_outbound(Route::kNode, to, std::move(bytes));
}

bool FaultInjectingTransport::send_to_connection(std::uint64_t connection, SharedBytes bytes) {
  if (!faults_.active() || !faults_.clients)
    return inner_->send_to_connection(connection, std::move(bytes));
  return send_outbound(Route::kConnection, connection, std::move(bytes));
}

FaultStats FaultInjectingTransport::fault_stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

FaultInjectingTransport::Fate FaultInjectingTransport::decide() {
  Fate fate;
  if (loss_rng_.chance(faults_.loss_probability)) {
    ++stats_.lost;
    return fate;
  }
  fate.copies = duplicate_rng_.chance(faults_.duplicate_probability) ? 2 : 1;
  if (fate.copies == 2) ++stats_.duplicated;
  for (int copy = 0; copy < fate.copies; ++copy) {
    std::uint64_t jitter_us = faults_.jitter_us > 0 ? delay_rng_.uniform(0, faults_.jitter_us) : 0;
    fate.delays[copy] = std::chrono::microseconds(faults_.delay_us + jitter_us);
  }
  return fate;
}

bool FaultInjectingTransport::hold(Held held, std::size_t bytes) {
  if (stats_.held >= faults_.held_max || bytes > faults_.held_bytes_max - stats_.held_bytes) {
    ++stats_.overflowed;
    return false;
  }
  ++stats_.held;
  stats_.held_bytes += bytes;
  held.order = next_order_++;
  auto& heap = held.route == Route::kInbound ? inbound_ : outbound_;
  heap.push_back(std::move(held));
  std::push_heap(heap.begin(), heap.end(), std::greater<>());
  return true;
}

FaultInjectingTransport::Held FaultInjectingTransport::take_earliest(std::vector<Held>& heap) {
  PHALANX_ASSERT(!heap.empty(), "take_earliest on an empty queue");
  std::pop_heap(heap.begin(), heap.end(), std::greater<>());
  Held held = std::move(heap.back());
  heap.pop_back();
  std::size_t bytes =
      held.route == Route::kInbound ? held.inbound.bytes.size() : held.bytes->size();
  PHALANX_ASSERT(stats_.held > 0 && stats_.held_bytes >= bytes, "held counts out of step");
  --stats_.held;
  stats_.held_bytes -= bytes;
  return held;
}

bool FaultInjectingTransport::send_outbound(Route route, std::uint64_t target, SharedBytes bytes) {
  PHALANX_ASSERT(bytes != nullptr, "sending no bytes");
  int copies_now = 0;
  bool accepted = true;  // a lost message looks sent, as on a real network
  {
    std::lock_guard lock(mutex_);
    Fate fate = decide();
    Clock::time_point now = Clock::now();
    for (int copy = 0; copy < fate.copies; ++copy) {
      if (fate.delays[copy].count() == 0) {
        ++copies_now;
        continue;
      }
      Held held{now + fate.delays[copy], 0, route, target, bytes, {}};
      bool earliest = outbound_.empty() || held.due < outbound_.front().due;
      bool queued = hold(std::move(held), bytes->size());
      if (queued) ++stats_.delayed;
      if (copy == 0) accepted = queued;
      if (queued && earliest) outbound_changed_.notify_one();
    }
  }
  for (int copy = 0; copy < copies_now; ++copy) {
    bool sent = forward(route, target, bytes);
    if (copy == 0) accepted = accepted && sent;
  }
  return accepted;
}

bool FaultInjectingTransport::forward(Route route, std::uint64_t target, SharedBytes bytes) {
  PHALANX_ASSERT(route != Route::kInbound, "forwarding an inbound message outbound");
  if (route == Route::kNode) return inner_->send_to_node(static_cast<NodeId>(target), bytes);
  return inner_->send_to_connection(target, std::move(bytes));
}

void FaultInjectingTransport::release_due_outbound() {
  std::vector<Held> due;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (outbound_.empty()) {
      outbound_changed_.wait(lock);
      continue;
    }
    Clock::time_point now = Clock::now();
    if (Clock::time_point next = outbound_.front().due; now < next) {
      // A copy of the instant: the heap may move while the lock is released.
      outbound_changed_.wait_until(lock, next);
      continue;
    }
    while (!outbound_.empty() && outbound_.front().due <= now)
      due.push_back(take_earliest(outbound_));
    lock.unlock();  // the inner transport is called without our lock
    for (auto& held : due) forward(held.route, held.target, std::move(held.bytes));
    due.clear();
    lock.lock();
  }
}

void FaultInjectingTransport::take_due_inbound(std::vector<Inbound>& out, std::size_t limit) {
  Clock::time_point now = Clock::now();
  while (out.size() < limit && !inbound_.empty() && inbound_.front().due <= now)
    out.push_back(std::move(take_earliest(inbound_).inbound));
}

std::size_t FaultInjectingTransport::receive(std::vector<Inbound>& out, std::size_t max,
                                             std::chrono::milliseconds timeout) {
  if (!faults_.active() || !faults_.inbound) return inner_->receive(out, max, timeout);
  const std::size_t first = out.size();
  const std::size_t limit = first + max;
  {
    std::lock_guard lock(mutex_);
    take_due_inbound(out, limit);
    if (out.size() > first) {
      timeout = std::chrono::milliseconds(0);  // something to hand over now
    } else if (!inbound_.empty()) {            // wait no later than the next is due
      auto until_due =
          std::chrono::ceil<std::chrono::milliseconds>(inbound_.front().due - Clock::now());
      timeout = std::min(timeout, std::max(until_due, std::chrono::milliseconds(0)));
    }
  }
  if (out.size() == limit) return out.size() - first;
  const std::size_t before = out.size();
  inner_->receive(out, limit - before, timeout);
  std::vector<Inbound> arrived(std::make_move_iterator(out.begin() + before),
                               std::make_move_iterator(out.end()));
  out.resize(before);
  std::lock_guard lock(mutex_);
  for (auto& inbound : arrived) receive_one(std::move(inbound), out, limit);
  return out.size() - first;
}

void FaultInjectingTransport::receive_one(Inbound inbound, std::vector<Inbound>& out,
                                          std::size_t limit) {
  if (!inbound.node && !faults_.clients) {  // from a client, and clients are spared
    out.push_back(std::move(inbound));
    return;
  }
  Fate fate = decide();
  Clock::time_point now = Clock::now();
  for (int copy = 0; copy < fate.copies; ++copy) {
    Inbound message = copy + 1 < fate.copies ? inbound : std::move(inbound);
    bool delayed = fate.delays[copy].count() > 0;
    if (!delayed && out.size() < limit) {
      out.push_back(std::move(message));
      continue;
    }
    // Delayed, or a duplicate past `max`: it waits for the next receive().
    std::size_t bytes = message.bytes.size();
    bool queued = hold(
        Held{now + fate.delays[copy], 0, Route::kInbound, 0, nullptr, std::move(message)}, bytes);
    if (queued && delayed) ++stats_.delayed;
  }
}

}  // namespace phalanx::net
