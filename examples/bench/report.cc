#include "report.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace phalanx::bench {

namespace {

// jemalloc (linked into the tools by the release preset, cmake/ToolFlags.cmake, or preloaded)
// exports mallctl; glibc's malloc does not. Printed because it moves the figures by a fifth.
const char* allocator_name() {
  return dlsym(RTLD_DEFAULT, "mallctl") != nullptr ? "jemalloc" : "glibc malloc";
}

double percentile_ms(const std::vector<std::uint32_t>& sorted_us, double fraction) {
  if (sorted_us.empty()) return 0;
  auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted_us.size() - 1));
  return static_cast<double>(sorted_us[index]) / 1e3;
}

double per(double amount, std::uint64_t requests) {
  return requests == 0 ? 0 : amount / static_cast<double>(requests);
}

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

}  // namespace

Point make_point(std::size_t outstanding, WindowResult window, const Counters& own,
                 const Counters& servers, bool threads, double ceiling) {
  std::sort(window.latencies_us.begin(), window.latencies_us.end());
  Point point;
  point.outstanding = outstanding;
  point.seconds = window.seconds;
  point.completed = window.completed;
  point.failed = window.failed;
  point.per_second =
      window.seconds > 0 ? static_cast<double>(window.completed) / window.seconds : 0;
  point.p50_ms = percentile_ms(window.latencies_us, 0.50);
  point.p90_ms = percentile_ms(window.latencies_us, 0.90);
  point.p99_ms = percentile_ms(window.latencies_us, 0.99);
  point.p999_ms = percentile_ms(window.latencies_us, 0.999);
  std::uint64_t done = window.completed;
  // With threads, this process's CPU and crypto counts already include the servers'.
  point.cpu_us_per_request = per(own.cpu_us + (threads ? 0 : servers.cpu_us), done);
  point.server_cpu_us_per_request = threads ? 0 : per(servers.cpu_us, done);
  point.signs_per_request = per(static_cast<double>(own.signs + servers.signs), done);
  point.verifies_per_request = per(static_cast<double>(own.verifies + servers.verifies), done);
  point.messages_per_request = per(static_cast<double>(servers.messages), done);
  point.bytes_per_request = per(static_cast<double>(servers.bytes), done);
  point.batch_size = servers.batches == 0 ? 0
                                          : static_cast<double>(servers.executed) /
                                                static_cast<double>(servers.batches);
  point.of_ceiling = ceiling > 0 ? point.per_second / ceiling : 0;
  return point;
}

void print_machine(const MachineCosts& machine, const char* label) {
  std::printf(
      "%s: %u cores; Ed25519 sign %.1f us, verify %.1f us; BLAKE2b %.2f ns/byte; "
      "ZeroMQ%s round trip %.1f us, %.2f us CPU per streamed message\n",
      label, machine.cores, machine.sign_us, machine.verify_us, machine.blake2b_ns_per_byte,
      machine.curve ? " (CurveZMQ)" : "", machine.zmq_round_trip_us, machine.zmq_message_cpu_us);
}

void print_run(const RunReport& run) {
  const BenchOptions& o = run.options;
  std::printf(
      "\n%s: %s application, %zu-byte requests, %zu-byte replies, batches <= %zu / %.2f ms, "
      "%s, %s, %s, %s clients, requests to %s, %s\n",
      run.label.c_str(), o.application.c_str(), o.request_bytes, o.reply_bytes,
      o.batch_requests_max, o.batch_delay_ms, o.durable ? "durable (fsync)" : "memory",
      o.threads ? "threads" : "processes", o.plaintext ? "plaintext" : "CurveZMQ",
      o.mac_clients ? "MAC" : "signing", o.send_to_all ? "every replica" : "the primary",
      allocator_name());
  if (run.machine_timed)
    std::printf(
        "least work per request: %.2f signs, %.2f verifies, %.2f messages -> ceiling "
        "%.0f requests/s\n",
        run.least.signs, run.least.verifies, run.least.messages, run.ceiling_per_second);
  std::printf("%11s %10s %8s %8s %8s %8s %9s %7s %7s %7s %8s %6s %8s\n", "outstanding", "req/s",
              "p50 ms", "p90 ms", "p99 ms", "p99.9ms", "cpu us/rq", "sign/rq", "vrfy/rq", "msgs/rq",
              "bytes/rq", "batch", "ceiling");
  for (const Point& p : run.points)
    std::printf(
        "%11zu %10.0f %8.2f %8.2f %8.2f %8.2f %9.1f %7.2f %7.2f %7.2f %8.0f %6.1f %7.0f%%%s\n",
        p.outstanding, p.per_second, p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.cpu_us_per_request,
        p.signs_per_request, p.verifies_per_request, p.messages_per_request, p.bytes_per_request,
        p.batch_size, p.of_ceiling * 100,
        p.failed > 0 ? (" (" + std::to_string(p.failed) + " failed)").c_str() : "");
}

std::string to_json(const std::vector<RunReport>& runs) {
  std::ostringstream out;
  out << "{\"runs\":[";
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunReport& run = runs[r];
    const BenchOptions& o = run.options;
    const MachineCosts& m = run.machine;
    out << (r ? "," : "") << "{\"label\":\"" << run.label << "\",\"config\":{"
        << "\"replicas\":" << (o.unreplicated ? 1 : o.replicas)
        << ",\"unreplicated\":" << (o.unreplicated ? "true" : "false") << ",\"application\":\""
        << o.application << "\",\"request_bytes\":" << o.request_bytes
        << ",\"reply_bytes\":" << o.reply_bytes << ",\"clients\":" << o.clients
        << ",\"batch_requests_max\":" << o.batch_requests_max
        << ",\"batch_delay_ms\":" << number(o.batch_delay_ms)
        << ",\"pipeline_batches_max\":" << o.pipeline_batches_max
        << ",\"durable\":" << (o.durable ? "true" : "false")
        << ",\"threads\":" << (o.threads ? "true" : "false")
        << ",\"curve\":" << (o.plaintext ? "false" : "true") << ",\"client_auth\":\""
        << (o.mac_clients ? "mac" : "ed25519") << "\",\"send_to\":\""
        << (o.send_to_all ? "all" : "primary") << "\",\"allocator\":\"" << allocator_name()
        << "\",\"warmup_seconds\":" << number(o.warmup_seconds)
        << ",\"seconds\":" << number(o.seconds) << "}";
    if (run.machine_timed)
      out << ",\"machine\":{\"cores\":" << m.cores << ",\"sign_us\":" << number(m.sign_us)
          << ",\"verify_us\":" << number(m.verify_us)
          << ",\"blake2b_ns_per_byte\":" << number(m.blake2b_ns_per_byte)
          << ",\"zmq_round_trip_us\":" << number(m.zmq_round_trip_us)
          << ",\"zmq_message_cpu_us\":" << number(m.zmq_message_cpu_us)
          << "},\"ceiling\":{\"signs\":" << number(run.least.signs)
          << ",\"verifies\":" << number(run.least.verifies)
          << ",\"messages\":" << number(run.least.messages)
          << ",\"requests_per_second\":" << number(run.ceiling_per_second) << "}";
    out << ",\"points\":[";
    for (std::size_t i = 0; i < run.points.size(); ++i) {
      const Point& p = run.points[i];
      out << (i ? "," : "") << "{\"outstanding\":" << p.outstanding
          << ",\"seconds\":" << number(p.seconds) << ",\"completed\":" << p.completed
          << ",\"failed\":" << p.failed << ",\"requests_per_second\":" << number(p.per_second)
          << ",\"latency_ms\":{\"p50\":" << number(p.p50_ms) << ",\"p90\":" << number(p.p90_ms)
          << ",\"p99\":" << number(p.p99_ms) << ",\"p99.9\":" << number(p.p999_ms) << "}"
          << ",\"cpu_us_per_request\":" << number(p.cpu_us_per_request)
          << ",\"server_cpu_us_per_request\":" << number(p.server_cpu_us_per_request)
          << ",\"signs_per_request\":" << number(p.signs_per_request)
          << ",\"verifies_per_request\":" << number(p.verifies_per_request)
          << ",\"messages_per_request\":" << number(p.messages_per_request)
          << ",\"bytes_per_request\":" << number(p.bytes_per_request)
          << ",\"batch_size\":" << number(p.batch_size)
          << ",\"of_ceiling\":" << number(p.of_ceiling) << "}";
    }
    out << "]}";
  }
  out << "]}\n";
  return out.str();
}

std::string to_svg(const std::vector<RunReport>& runs) {
  constexpr double kWidth = 720, kHeight = 440, kLeft = 70, kRight = 20, kTop = 30, kBottom = 50;
  double max_x = 1, max_y = 1;
  for (const auto& run : runs)
    for (const auto& p : run.points) {
      max_x = std::max(max_x, p.per_second);
      max_y = std::max(max_y, p.p99_ms);
    }
  max_x *= 1.05;
  max_y *= 1.05;
  auto x = [&](double v) { return kLeft + v / max_x * (kWidth - kLeft - kRight); };
  auto y = [&](double v) { return kHeight - kBottom - v / max_y * (kHeight - kTop - kBottom); };
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"18\">phalanx-bench: latency against throughput "
      << "(solid p50, dashed p99; labels: requests outstanding)</text>\n"
      << "<line x1=\"" << kLeft << "\" y1=\"" << y(0) << "\" x2=\"" << x(max_x) << "\" y2=\""
      << y(0) << "\" stroke=\"black\"/>\n<line x1=\"" << kLeft << "\" y1=\"" << y(0) << "\" x2=\""
      << kLeft << "\" y2=\"" << y(max_y) << "\" stroke=\"black\"/>\n";
  for (int tick = 0; tick <= 4; ++tick) {
    double vx = max_x * tick / 4, vy = max_y * tick / 4;
    out << "<text x=\"" << x(vx) << "\" y=\"" << y(0) + 16 << "\" text-anchor=\"middle\">"
        << number(std::round(vx)) << "</text>\n<text x=\"" << kLeft - 6 << "\" y=\"" << y(vy) + 4
        << "\" text-anchor=\"end\">" << number(std::round(vy * 100) / 100) << "</text>\n";
  }
  out << "<text x=\"" << (kWidth + kLeft) / 2 << "\" y=\"" << kHeight - 12
      << "\" text-anchor=\"middle\">requests/s</text>\n<text x=\"16\" y=\"" << kHeight / 2
      << "\" transform=\"rotate(-90 16 " << kHeight / 2
      << ")\" text-anchor=\"middle\">latency, ms</text>\n";
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const char* colour = colours[r % 4];
    for (bool p99 : {false, true}) {
      out << "<polyline fill=\"none\" stroke=\"" << colour << "\""
          << (p99 ? " stroke-dasharray=\"5,4\"" : "") << " points=\"";
      for (const auto& p : runs[r].points)
        out << x(p.per_second) << "," << y(p99 ? p.p99_ms : p.p50_ms) << " ";
      out << "\"/>\n";
    }
    for (const auto& p : runs[r].points)
      out << "<circle cx=\"" << x(p.per_second) << "\" cy=\"" << y(p.p50_ms) << "\" r=\"3\" fill=\""
          << colour << "\"/><text x=\"" << x(p.per_second) + 4 << "\" y=\"" << y(p.p50_ms) - 4
          << "\" font-size=\"10\">" << p.outstanding << "</text>\n";
    out << "<text x=\"" << kLeft + 10 << "\" y=\"" << kTop + 16 + 16 * static_cast<double>(r)
        << "\" fill=\"" << colour << "\">" << runs[r].label << "</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace phalanx::bench
