// phalanx-client: talks to a Phalanx key-value cluster.
//
//   phalanx-client --config cluster.toml [--client NAME] [--timeout-ms T] put KEY VALUE
//   phalanx-client --config cluster.toml get KEY
//   phalanx-client --config cluster.toml del KEY
//   phalanx-client --config cluster.toml bench [--requests N] [--outstanding K]
//                  [--value-bytes B] [--key-prefix P] [--ack-log FILE]
//
// bench puts keys P0, P1, ... (P: "bench-"), each with a value of B bytes 'v'; with
// --ack-log it appends "KEY B" for every put the cluster acknowledged (f+1 matching
// replies), one line each, flushed as it goes: what a crash test later looks for in every
// replica's state (phalanx-replica --inspect --expect FILE).
//
// A result is printed only once f+1 replicas sent matching replies. Exit codes: 0 done,
// 1 get found no such key, 2 bad configuration or key, 3 no f+1 matching replies before
// the deadline (or transport failure).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"

namespace {

using namespace phalanx;

int fail(int code, const std::string& message) {
  std::cerr << "phalanx-client: " << message << "\n";
  return code;
}

struct Bench {
  std::size_t requests = 1000;
  std::size_t outstanding = 16;
  std::size_t value_bytes = 16;
  std::string key_prefix = "bench-";
  std::string ack_log;  // empty: none
};

struct InFlight {
  std::chrono::steady_clock::time_point submitted;
  std::string key;
  std::future<Result<Bytes>> result;
};

int run_bench(pbft::Client& client, const Bench& bench) {
  using Clock = std::chrono::steady_clock;
  std::ofstream acks;
  if (!bench.ack_log.empty()) {
    acks.open(bench.ack_log, std::ios::app);
    if (!acks) return fail(2, "cannot open " + bench.ack_log + " for appending");
  }
  std::vector<double> latencies_ms;
  latencies_ms.reserve(bench.requests);
  std::string value(bench.value_bytes, 'v');
  auto started = Clock::now();
  std::size_t failed = 0;
  std::deque<InFlight> in_flight;
  for (std::size_t i = 0; i < bench.requests || !in_flight.empty();) {
    while (i < bench.requests && in_flight.size() < bench.outstanding) {
      std::string key = bench.key_prefix + std::to_string(i);
      in_flight.push_back(
          InFlight{Clock::now(), key, client.submit(examples::kv::put(key, value))});
      ++i;
    }
    InFlight next = std::move(in_flight.front());
    in_flight.pop_front();
    Result<Bytes> result = next.result.get();
    auto decoded = result.ok() ? examples::kv::decode_result(result.value()) : std::nullopt;
    if (!decoded || !decoded->ok) {
      ++failed;
    } else if (acks) {
      acks << next.key << ' ' << value.size() << '\n' << std::flush;
    }
    auto submitted = next.submitted;
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - submitted).count());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto percentile = [&](double p) {
    return latencies_ms[std::min(latencies_ms.size() - 1,
                                 static_cast<std::size_t>(p * latencies_ms.size()))];
  };
  std::printf("requests=%zu failed=%zu seconds=%.2f throughput=%.0f/s p50=%.2fms p99=%.2fms\n",
              bench.requests, failed, seconds, static_cast<double>(bench.requests) / seconds,
              percentile(0.50), percentile(0.99));
  return failed == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Client of a Phalanx key-value cluster."};
  std::string config_path, client_name;
  int timeout_ms = 10'000;
  bool plaintext = false;
  app.add_option("--config", config_path, "cluster file")->required();
  app.add_option("--client", client_name, "client name in the cluster file (default: the first)");
  app.add_option("--timeout-ms", timeout_ms, "deadline per request");
  app.add_flag("--plaintext", plaintext, "no CurveZMQ (when the replicas run --plaintext)");
  bool mac = false;
  app.add_flag("--mac", mac,
               "authenticate with a MAC per replica instead of a signature (needs "
               "accept_mac_clients = 1 in the cluster's [options])");
  app.require_subcommand(1);
  std::string key, value;
  auto* put = app.add_subcommand("put", "store VALUE under KEY");
  put->add_option("key", key)->required();
  put->add_option("value", value)->required();
  auto* get = app.add_subcommand("get", "print the value under KEY");
  get->add_option("key", key)->required();
  auto* del = app.add_subcommand("del", "remove KEY");
  del->add_option("key", key)->required();
  Bench bench;
  auto* bench_command = app.add_subcommand("bench", "closed-loop puts; prints throughput");
  bench_command->add_option("--requests", bench.requests, "how many puts");
  bench_command->add_option("--outstanding", bench.outstanding, "puts in flight at once");
  bench_command->add_option("--value-bytes", bench.value_bytes, "size of each value");
  bench_command->add_option("--key-prefix", bench.key_prefix, "keys are PREFIX0, PREFIX1, ...");
  bench_command->add_option("--ack-log", bench.ack_log,
                            "append 'KEY VALUE_BYTES' for every acknowledged put to this file");
  CLI11_PARSE(app, argc, argv);

  auto config = pbft::load_cluster_config(config_path);
  if (!config.ok()) return fail(2, config.error().message);
  const pbft::ClientEntry* entry =
      client_name.empty() ? (config.value().clients.empty() ? nullptr : &config.value().clients[0])
                          : config.value().find_client(client_name);
  if (entry == nullptr || entry->key_file.empty())
    return fail(2, "no client " + (client_name.empty() ? "" : "'" + client_name + "' ") +
                       "with a key file in " + config_path);
  auto secret = crypto::read_secret_key_file(config.value().resolve_path(entry->key_file));
  if (!secret.ok()) return fail(2, secret.error().message);

  auto security = plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  auto transport = node::client_transport(config.value(), secret.value(), security);
  if (!transport.ok()) return fail(3, transport.error().message);
  pbft::ClientSettings settings = node::client_settings(config.value());
  settings.timeout = std::chrono::milliseconds(timeout_ms);
  settings.identities = std::max<std::size_t>(1, bench.outstanding);
  if (mac) settings.options.mac_authenticators = true;  // else as the cluster file says
  pbft::Client client(settings, std::move(secret).value(), std::move(transport).value());

  if (bench_command->parsed()) return run_bench(client, bench);
  Bytes operation = put->parsed()   ? examples::kv::put(key, value)
                    : get->parsed() ? examples::kv::get(key)
                                    : examples::kv::del(key);
  auto result = client.call(std::move(operation));
  if (!result.ok())
    return fail(3, result.error().message + " (" + std::to_string(timeout_ms) + " ms)");
  auto decoded = examples::kv::decode_result(result.value());
  if (!decoded) return fail(3, "replicas agreed on a result this client cannot decode");
  if (get->parsed() && !decoded->ok) {
    std::cout << "(not found)\n";
    return 1;
  }
  std::cout << (get->parsed() ? decoded->value : "ok") << "\n";
  return 0;
}
