#include "phalanx/crypto/sodium.h"

#include <sodium.h>

#include <mutex>

#include "phalanx/base/assert.h"

namespace phalanx::crypto {

void ensure_sodium_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init returns 1 when already initialised by someone else: also fine.
    PHALANX_ASSERT(sodium_init() >= 0, "sodium_init failed: libsodium cannot run here");
  });
}

}  // namespace phalanx::crypto
