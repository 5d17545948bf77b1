#include "zmq_queues.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace phalanx::net {

Result<std::unique_ptr<TransportQueues>> TransportQueues::create(const QueueLimits& limits) {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Error{std::string("cannot create an eventfd: ") + std::strerror(errno)};
  return std::unique_ptr<TransportQueues>(new TransportQueues(limits, fd));
}

TransportQueues::TransportQueues(const QueueLimits& limits, int wake_fd)
    : limits_(limits), wake_fd_(wake_fd) {}

TransportQueues::~TransportQueues() {
  ::close(wake_fd_);
}

bool TransportQueues::push_outbound(Outgoing message) {
  const std::size_t size = message.bytes->size();
  bool wake = false;
  {
    std::lock_guard lock(outbound_mutex_);
    if (stopped_ || outbound_.size() >= limits_.outbound_max ||
        outbound_bytes_ + size > limits_.outbound_bytes_max) {
      count(counters.send_dropped);
      return false;
    }
    outbound_bytes_ += size;
    outbound_.push_back(std::move(message));
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  // Outside the lock: a wake that arrives after the I/O thread took this message already
  // only costs it one empty turn, and no push is ever left without a wake (see take_outbound).
  if (wake) signal_wake();
  return true;
}

TransportQueues::Take TransportQueues::take_outbound(std::vector<Outgoing>& out, std::size_t max) {
  std::lock_guard lock(outbound_mutex_);
  if (stopped_) return Take::kStopped;
  for (std::size_t i = 0; i < max && !outbound_.empty(); ++i) {
    outbound_bytes_ -= outbound_.front().bytes->size();
    out.push_back(std::move(outbound_.front()));
    outbound_.pop_front();
  }
  if (!outbound_.empty()) return Take::kMore;
  // Cleared under the lock: a push after this point sees it false and writes the eventfd.
  wake_pending_ = false;
  return Take::kDrained;
}

void TransportQueues::stop() {
  {
    std::lock_guard lock(outbound_mutex_);
    stopped_ = true;
  }
  signal_wake();
}

void TransportQueues::signal_wake() {
  const std::uint64_t one = 1;
  // Cannot fail short of a bug: the counter would need 2^64 - 2 unread wakes to be full.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
}

void TransportQueues::clear_wake() {
  std::uint64_t value = 0;
  [[maybe_unused]] const ssize_t read = ::read(wake_fd_, &value, sizeof value);
}

std::size_t TransportQueues::deliver(std::vector<Inbound>& batch) {
  std::size_t accepted = 0;
  bool was_empty = false;
  {
    std::lock_guard lock(inbound_mutex_);
    was_empty = inbound_.empty();
    for (Inbound& message : batch) {
      if (inbound_.size() >= limits_.inbound_max ||
          inbound_bytes_ + message.bytes.size() > limits_.inbound_bytes_max)
        continue;
      inbound_bytes_ += message.bytes.size();
      inbound_.push_back(std::move(message));
      ++accepted;
    }
  }
  count(counters.received, accepted);
  count(counters.receive_dropped, batch.size() - accepted);
  batch.clear();
  // Waiters wait for "not empty", so only that change needs telling; a receiver that leaves
  // messages behind passes the word on (receive()).
  if (was_empty && accepted > 0) inbound_ready_.notify_all();
  return accepted;
}

std::size_t TransportQueues::receive(std::vector<Inbound>& out, std::size_t max,
                                     std::chrono::milliseconds timeout) {
  if (max == 0) return 0;
  std::unique_lock lock(inbound_mutex_);
  if (!inbound_ready_.wait_for(lock, timeout,
                               [this] { return !inbound_.empty() || receiver_woken_; }))
    return 0;
  receiver_woken_ = false;
  std::size_t moved = 0;
  for (; moved < max && !inbound_.empty(); ++moved) {
    inbound_bytes_ -= inbound_.front().bytes.size();
    out.push_back(std::move(inbound_.front()));
    inbound_.pop_front();
  }
  const bool more = !inbound_.empty();
  lock.unlock();
  if (more) inbound_ready_.notify_one();
  return moved;
}

std::size_t TransportQueues::take_inbound(std::vector<Inbound>& out, std::size_t max,
                                         bool& woken) {
  std::lock_guard lock(inbound_mutex_);
  woken = std::exchange(receiver_woken_, false);
  std::size_t moved = 0;
  for (; moved < max && !inbound_.empty(); ++moved) {
    inbound_bytes_ -= inbound_.front().bytes.size();
    out.push_back(std::move(inbound_.front()));
    inbound_.pop_front();
  }
  return moved;
}

void TransportQueues::wake_receiver() {
  {
    std::lock_guard lock(inbound_mutex_);
    receiver_woken_ = true;
  }
  inbound_ready_.notify_all();
}

std::size_t TransportQueues::inbound_depth() const {
  std::lock_guard lock(inbound_mutex_);
  return inbound_.size();
}

std::size_t TransportQueues::outbound_depth() const {
  std::lock_guard lock(outbound_mutex_);
  return outbound_.size();
}

}  // namespace phalanx::net
