#pragma once
// Assertions for invariants. A broken invariant is a bug: fail loudly, at once, with
// the place and the condition. Never use these on bytes from the network (those are
// dropped and counted, see pbft/wire) or on operating errors (those are Result values).
//
// PHALANX_ASSERT is always on, in release builds too: a replica that continues after
// an invariant broke may sign something wrong, which is worse than stopping.
// PHALANX_EXPENSIVE_ASSERT runs only with PHALANX_INVARIANTS (debug, asan, simulation).

#include <cstdio>
#include <cstdlib>

namespace phalanx::detail {
[[noreturn]] inline void assertion_failed(const char* condition, const char* message,
                                          const char* file, int line) {
  std::fprintf(stderr, "phalanx: invariant broken at %s:%d: %s (%s)\n", file, line, condition,
               message);
  std::fflush(stderr);
  std::abort();
}
}  // namespace phalanx::detail

#define PHALANX_ASSERT(condition, message)                                              \
  do {                                                                                  \
    if (!(condition)) [[unlikely]]                                                      \
      ::phalanx::detail::assertion_failed(#condition, message, __FILE__, __LINE__);     \
  } while (false)

#ifdef PHALANX_INVARIANTS
#define PHALANX_EXPENSIVE_ASSERT(condition, message) PHALANX_ASSERT(condition, message)
#define PHALANX_INVARIANTS_ENABLED 1
#else
#define PHALANX_EXPENSIVE_ASSERT(condition, message) \
  do {                                               \
  } while (false)
#define PHALANX_INVARIANTS_ENABLED 0
#endif
