# phalanx_tool_flags: an interface target that tool mains link (tools/*.cc and the replica
# command line: option parsing and wiring), so that a preset can build them with flags of
# their own. CLI11 alone makes each of them a heavy compile, yet the run time of every tool
# goes into the libraries it calls.
#
# The asan and tsan presets set -O0 here: with the sanitizers, -O1 doubles their compile
# time (17 tools: 408 -> 242 CPU-s), while the libraries keep -O1 and every sanitizer still
# instruments every file. Tests are left alone: they share inline code with the libraries,
# and the linker may keep a test's copy of it, so -O0 tests ran 25% slower.
set(PHALANX_TOOL_CXX_FLAGS "" CACHE STRING
    "Extra compile flags for tool mains (the asan and tsan presets: -O0)")
separate_arguments(phalanx_tool_flags_list UNIX_COMMAND "${PHALANX_TOOL_CXX_FLAGS}")
add_library(phalanx_tool_flags INTERFACE)
target_compile_options(phalanx_tool_flags INTERFACE ${phalanx_tool_flags_list})

# The release preset links the tools with jemalloc (PHALANX_JEMALLOC): replicas allocate for
# every message, and glibc's malloc took 15% of phalanx-bench's CPU; jemalloc gave 15-35%
# more throughput (docs/performance.md). Off elsewhere: the sanitizers bring their own.
option(PHALANX_JEMALLOC "Link the tools (daemons, CLIs, phalanx-bench) with jemalloc" OFF)
if(PHALANX_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(phalanx_tool_flags INTERFACE PkgConfig::JEMALLOC)
endif()
