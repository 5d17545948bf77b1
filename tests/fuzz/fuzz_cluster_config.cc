// libFuzzer target: the cluster file parser and validator (pbft::parse_cluster_config).
// Any text must give a config or a list of problems, never a crash; a config it accepts
// must pass validation again (the loader's own promise).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "phalanx/pbft/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = phalanx::pbft::parse_cluster_config(text, "fuzz.toml", "/nonexistent");
  if (config.ok() && !phalanx::pbft::validate_cluster_config(config.value()).empty())
    __builtin_trap();
  return 0;
}
