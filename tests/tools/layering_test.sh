#!/usr/bin/env bash
# scripts/check-layering passes on the real tree and fails on a scratch copy into which a
# forbidden dependency was planted, once per rule (DESIGN.md, "Rules that must never break").
# Usage: layering_test.sh SOURCE_DIR
set -euo pipefail
source_dir=$1
check=$source_dir/scripts/check-layering
scratch=$(mktemp -d "${TMPDIR:-/tmp}/phalanx-layering-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$check" "$source_dir" || { echo "FAIL: the real tree breaks a layering rule"; exit 1; }

expect_failure() {  # DESCRIPTION FILE LINE
  rm -rf "$scratch/tree" && mkdir -p "$scratch/tree"
  cp -r "$source_dir/pbft" "$source_dir/net" "$source_dir/crypto" "$scratch/tree/"
  mkdir -p "$(dirname "$scratch/tree/$2")"
  echo "$3" >>"$scratch/tree/$2"
  if "$check" "$scratch/tree" >/dev/null; then
    echo "FAIL: check-layering accepted $1"
    exit 1
  fi
  echo "refused as expected: $1"
}

expect_failure "<thread> in the core" pbft/src/core/planted.cc '#include <thread>'
expect_failure "zmq in a core header" pbft/include/phalanx/pbft/planted.h '#include <zmq.hpp>'
expect_failure "a clock read in the core" pbft/src/core/planted.cc 'auto t = std::chrono::steady_clock::now();'
expect_failure "sockets in the core" pbft/src/core/planted.cc '#include <sys/socket.h>'
expect_failure "randomness in the core" pbft/src/core/planted.cc 'std::random_device device;'
expect_failure "net/ including pbft/" net/src/planted.cc '#include "phalanx/pbft/replica.h"'
expect_failure "pbft/ including adversary/" pbft/src/node/planted.cc '#include "phalanx/adversary/checker.h"'
echo "passed"
