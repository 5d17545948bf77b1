#pragma once
// Secret key files: one file per replica or client, one line of 64 hex characters (the
// Ed25519 seed), mode 0600. Reading refuses a file that others may read, so that a key
// copied carelessly is noticed before it is used.
// Thread-safety: functions touch only the named file.

#include <string>

#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::crypto {

enum class Overwrite { kNo, kYes };

// Creates `path` with mode 0600 and writes the key. Refuses an existing file unless
// overwrite is kYes. Syncs the file before returning.
Status write_secret_key_file(const std::string& path, const SecretKey& key,
                             Overwrite overwrite = Overwrite::kNo);

// Errors name the path and the problem: missing, unreadable, permissions looser than
// 0600, wrong length, not hex.
Result<SecretKey> read_secret_key_file(const std::string& path);

}  // namespace phalanx::crypto
