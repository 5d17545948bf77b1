#include "server.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "null_application.h"
#include "phalanx/crypto/op_counts.h"
#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"
#include "phalanx/storage/file_system.h"
#include "phalanx/storage/log_storage.h"

namespace phalanx::bench {

Counters& Counters::operator+=(const Counters& other) {
  cpu_us += other.cpu_us;
  signs += other.signs;
  verifies += other.verifies;
  messages += other.messages;
  bytes += other.bytes;
  executed += other.executed;
  batches += other.batches;
  return *this;
}

Counters Counters::operator-(const Counters& earlier) const {
  return Counters{cpu_us - earlier.cpu_us,     signs - earlier.signs, verifies - earlier.verifies,
                  messages - earlier.messages, bytes - earlier.bytes, executed - earlier.executed,
                  batches - earlier.batches};
}

std::string Counters::to_line() const {
  std::ostringstream out;
  out << "cpu_us=" << static_cast<std::uint64_t>(cpu_us) << " signs=" << signs
      << " verifies=" << verifies << " messages=" << messages << " bytes=" << bytes
      << " executed=" << executed << " batches=" << batches;
  return out.str();
}

Result<Counters> Counters::from_line(const std::string& line) {
  Counters counters;
  std::uint64_t cpu = 0;
  std::istringstream in(line);
  std::string field;
  int seen = 0;
  while (in >> field) {
    auto equals = field.find('=');
    if (equals == std::string::npos) return Error{"bad counters line: " + line};
    std::string name = field.substr(0, equals);
    std::uint64_t value = std::stoull(field.substr(equals + 1));
    std::uint64_t* target = name == "cpu_us"     ? &cpu
                            : name == "signs"    ? &counters.signs
                            : name == "verifies" ? &counters.verifies
                            : name == "messages" ? &counters.messages
                            : name == "bytes"    ? &counters.bytes
                            : name == "executed" ? &counters.executed
                            : name == "batches"  ? &counters.batches
                                                 : nullptr;
    if (target == nullptr) return Error{"unknown counter '" + name + "' in: " + line};
    *target = value;
    ++seen;
  }
  if (seen != 7) return Error{"bad counters line: " + line};
  counters.cpu_us = static_cast<double>(cpu);
  return counters;
}

Counters process_counters() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1e6 + static_cast<double>(time.tv_usec);
  };
  crypto::OpCounts ops = crypto::op_counts();
  Counters counters;
  counters.cpu_us = micros(usage.ru_utime) + micros(usage.ru_stime);
  counters.signs = ops.signs;
  counters.verifies = ops.verifies;
  return counters;
}

crypto::SecretKey server_key(std::uint32_t id) {
  return crypto::SecretKey::derive_for_testing("phalanx-bench-server", id);
}

crypto::SecretKey client_key(std::size_t index) {
  return crypto::SecretKey::derive_for_testing("phalanx-bench-client", index);
}

pbft::ClusterConfig bench_cluster(const BenchOptions& options) {
  pbft::ClusterConfig config;
  config.cluster_id = "phalanx-bench";
  for (std::uint32_t id = 0; id < options.server_count(); ++id) {
    pbft::ReplicaEntry& replica = config.replicas.emplace_back();
    replica.id = id;
    replica.endpoint =
        "tcp://127.0.0.1:" + std::to_string(options.base_port + static_cast<int>(id));
    replica.public_key = server_key(id).public_key();
  }
  config.replica_options.batch_requests_max = options.batch_requests_max;
  config.replica_options.pipeline_batches_max = options.pipeline_batches_max;
  config.replica_options.batch_delay_max =
      static_cast<pbft::Instant>(options.batch_delay_ms * static_cast<double>(pbft::kMillisecond));
  config.replica_options.accept_mac_clients = options.mac_clients;
  config.client_options.mac_authenticators = options.mac_clients;
  config.client_options.send_to_all = options.send_to_all;
  return config;
}

namespace {

std::unique_ptr<pbft::Application> make_application(const BenchOptions& options) {
  if (options.application == "kv") return std::make_unique<examples::KvApplication>();
  return std::make_unique<NullApplication>(options.reply_bytes);
}

node::LinkSecurity link_security(const BenchOptions& options) {
  return options.plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
}

// A replica: a node::Node on its own thread.
class ReplicaServer final : public Server {
 public:
  ReplicaServer(std::unique_ptr<pbft::Application> application, std::unique_ptr<node::Node> node)
      : application_(std::move(application)), node_(std::move(node)) {
    node_->start();
  }
  ~ReplicaServer() override { node_.reset(); }  // stops and joins before the application goes

  Counters counters() const override {
    const node::Metrics& metrics = node_->metrics();
    auto read = [](const node::Metrics::Counter& counter) {
      return counter.load(std::memory_order_relaxed);
    };
    Counters counters;
    counters.messages = read(metrics.messages_received) + read(metrics.replies_sent);
    counters.bytes = read(metrics.bytes_received) + read(metrics.reply_bytes_sent);
    counters.executed = read(metrics.requests_executed);
    counters.batches = read(metrics.batches_executed);
    return counters;
  }

 private:
  std::unique_ptr<pbft::Application> application_;
  std::unique_ptr<node::Node> node_;
};

// The unreplicated server: checks a request's signature (or with MAC clients its MAC),
// executes it and answers with a signed (or MAC'd) reply, as one replica would with
// nobody to agree with.
class UnreplicatedServer final : public Server {
 public:
  UnreplicatedServer(pbft::Verifier verifier, crypto::SecretKey key,
                     std::unique_ptr<pbft::Application> application,
                     std::unique_ptr<net::Transport> transport)
      : verifier_(std::move(verifier)),
        signer_(std::move(key)),
        application_(std::move(application)),
        transport_(std::move(transport)),
        thread_([this] { run(); }) {}
  ~UnreplicatedServer() override {
    stop_.store(true);
    transport_->wake();
    thread_.join();
  }

  Counters counters() const override {
    Counters counters;
    counters.messages = messages_.load(std::memory_order_relaxed);
    counters.bytes = bytes_.load(std::memory_order_relaxed);
    counters.executed = executed_.load(std::memory_order_relaxed);
    counters.batches = counters.executed;
    return counters;
  }

 private:
  void run() {
    std::vector<net::Inbound> inbound;
    while (!stop_.load()) {
      inbound.clear();
      transport_->receive(inbound, 512, std::chrono::milliseconds(10));
      for (auto& message : inbound) serve(message);
    }
  }

  void serve(const net::Inbound& inbound) {
    messages_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(inbound.bytes.size(), std::memory_order_relaxed);
    pbft::Opened opened = pbft::open_envelope(inbound.bytes, verifier_, pbft::Audience::kReplica);
    if (!opened.ok() || opened.message->kind != wire::REQUEST) return;
    const auto& request = std::get<wire::Request>(opened.message->body);
    pbft::RequestContext context;
    wire::Reply reply;
    reply.set_client_key(request.client_key());
    reply.set_request_id(request.request_id());
    reply.set_result(application_->execute(request.operation(), context));
    bool mac_client = !opened.message->envelope->authenticator().empty();
    auto sealed = std::make_shared<const Bytes>(pbft::encode(
        pbft::seal_reply(signer_, mac_client ? verifier_.replica_macs.get() : nullptr,
                         verifier_.cluster_id, 0, opened.message->client, pbft::encode(reply))));
    messages_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(sealed->size(), std::memory_order_relaxed);
    executed_.fetch_add(1, std::memory_order_relaxed);
    transport_->send_to_connection(inbound.connection, std::move(sealed));
  }

  pbft::Verifier verifier_;
  crypto::Signer signer_;
  std::unique_ptr<pbft::Application> application_;
  std::unique_ptr<net::Transport> transport_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> messages_{0}, bytes_{0}, executed_{0};
  std::thread thread_;  // last: starts once everything it uses is made
};

std::unique_ptr<storage::Storage> make_storage(const BenchOptions& options,
                                               const pbft::ClusterConfig& config, std::uint32_t id,
                                               const std::string& data_dir) {
  if (!options.durable) return std::make_unique<storage::MemoryStorage>();
  storage::LogStorageOptions storage_options;
  storage_options.dir = data_dir + "/replica-" + std::to_string(id);
  storage_options.identity = "cluster=" + config.cluster_id + " replica=" + std::to_string(id);
  storage_options.background_snapshots = true;
  return std::make_unique<storage::LogStorage>(std::make_shared<storage::PosixFileSystem>(),
                                               std::move(storage_options));
}

}  // namespace

Result<std::unique_ptr<Server>> start_server(const BenchOptions& options, std::uint32_t id,
                                             const std::string& data_dir) {
  pbft::ClusterConfig config = bench_cluster(options);
  crypto::SecretKey key = server_key(id);
  auto transport = node::replica_transport(config, id, key, link_security(options));
  if (!transport.ok()) return transport.error();
  if (options.unreplicated) {
    pbft::Verifier verifier = config.verifier();
    if (options.mac_clients)
      verifier.replica_macs = std::make_shared<const pbft::ReplicaMacs>(id, key.clone());
    return std::unique_ptr<Server>(std::make_unique<UnreplicatedServer>(
        std::move(verifier), std::move(key), make_application(options),
        std::move(transport).value()));
  }
  auto application = make_application(options);
  auto storage = make_storage(options, config, id, data_dir);
  // Silent unless asked: a log line per checkpoint would be noise in the figures' run.
  auto logger = std::make_shared<spdlog::logger>("bench-replica-" + std::to_string(id));
  if (options.replica_log)
    logger->sinks().push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(options.replica_log ? spdlog::level::info : spdlog::level::warn);
  auto node = std::make_unique<node::Node>(
      node::node_options(config, id), std::move(key), *application, std::move(transport).value(),
      std::move(storage), std::make_shared<net::SteadyClock>(), logger);
  return std::unique_ptr<Server>(
      std::make_unique<ReplicaServer>(std::move(application), std::move(node)));
}

}  // namespace phalanx::bench
