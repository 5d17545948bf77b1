#pragma once
// libsodium initialisation. sodium_init() is called once per process, the first time any
// crypto function needs it; a failure (no entropy source) is fatal and says so.
// Thread-safety: safe to call from any thread, any number of times.

namespace phalanx::crypto {
void ensure_sodium_initialized();
}
