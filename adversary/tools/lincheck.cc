// phalanx-lincheck: whether a KV history (adversary/history.h) is linearizable.
//
//   phalanx-lincheck HISTORY_FILE [--budget N]
//
// Prints one summary line (verdict, operations, keys, states explored, milliseconds) and,
// unless linearizable, the explanation. --budget: states explored per key before the
// verdict is unknown (linearizability.h).
//
// Exit codes: 0 linearizable; 1 not linearizable; 2 unknown (budget spent); 3 bad input
// or usage.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "phalanx/adversary/history.h"
#include "phalanx/adversary/linearizability.h"

namespace {

using namespace phalanx::adversary;

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitUnknown = 2;
constexpr int kExitBadInput = 3;

int exit_code(Linearizability verdict) {
  switch (verdict) {
    case Linearizability::kLinearizable:
      return kExitLinearizable;
    case Linearizability::kNotLinearizable:
      return kExitNotLinearizable;
    case Linearizability::kUnknown:
      return kExitUnknown;
  }
  return kExitBadInput;
}

int check(const std::string& path, std::uint64_t budget) {
  auto started = std::chrono::steady_clock::now();
  auto history = load_kv_history(path);
  if (!history.ok()) {
    std::cerr << history.error().message << "\n";
    return kExitBadInput;
  }
  auto report = check_linearizability(history.value(), {.states_per_key_max = budget});
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  std::printf(
      "%s: %llu operations (%llu without a reply), %llu keys, %llu states explored, %lld ms\n",
      std::string(to_string(report.verdict)).c_str(),
      static_cast<unsigned long long>(report.operations),
      static_cast<unsigned long long>(report.incomplete_operations),
      static_cast<unsigned long long>(report.keys),
      static_cast<unsigned long long>(report.states_explored), static_cast<long long>(elapsed_ms));
  if (!report.explanation.empty()) std::printf("%s\n", report.explanation.c_str());
  return exit_code(report.verdict);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks whether a KV history is linearizable (adversary/history.h)."};
  std::string path;
  std::uint64_t budget = LinearizabilityOptions{}.states_per_key_max;
  app.add_option("history", path, "history file, one operation per line")->required();
  app.add_option("--budget", budget, "states explored per key before the verdict is unknown")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : kExitBadInput;
  }
  return check(path, budget);
}
