#!/usr/bin/env bash
# The lock service as real processes (tests/lock.cmake): four phalanx-lock-replica on
# 127.0.0.1, ports BASE_PORT..+3 (protocol) and BASE_PORT+10..+13 (metrics), in a
# scratch directory, and phalanx-lock as two clients A and B. It shows, with what the
# CLI prints: a grant, a held lock refused to another client, a release by a non-holder
# refused, the lease ending by the log's time, the next grant with a larger token, and the
# old holder refused. Every process it starts is stopped on exit, by pid.
#
# Usage: cluster_test.sh BASE_PORT KEYGEN LOCK_REPLICA LOCK_CLI
set -euo pipefail

base_port=$1
keygen=$(realpath "$2") replica_bin=$(realpath "$3") lock_bin=$(realpath "$4")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/phalanx-lock-test.XXXXXX")
pids=()

label=lock
stop_processes() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
source "$(dirname "${BASH_SOURCE[0]}")/../support/scratch.sh"

"$keygen" --out cluster --base-port "$base_port" --metrics-base-port "$((base_port + 10))" \
  --clients 2 >/dev/null
for id in 0 1 2 3; do
  "$replica_bin" --config cluster/cluster.toml --id "$id" --storage memory >>"r$id.log" 2>&1 &
  pids+=($!)
done

# as CLIENT ARGS...: runs phalanx-lock as client-0 (A) or client-1 (B); sets `out` to what
# it printed and `code` to its exit status, and shows both.
as() {
  local who=$1 name
  shift
  [ "$who" = A ] && name=client-0 || name=client-1
  code=0
  out=$("$lock_bin" --config cluster/cluster.toml --client "$name" --timeout-ms 10000 "$@") || code=$?
  say "$who: phalanx-lock $* -> $out (exit $code)"
}
# expect CODE PATTERN: the last `as` exited with CODE and printed a line matching PATTERN.
expect() {
  [ "$code" = "$1" ] || fail "exit status $code, expected $1 (output: $out)"
  [[ "$out" =~ $2 ]] || fail "'$out' does not match '$2'"
}

# The cluster is up once it answers a query.
deadline=$((SECONDS + 30))
until "$lock_bin" --config cluster/cluster.toml --timeout-ms 2000 status probe >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || fail "the cluster did not answer within 30 s"
  sleep 0.2
done
a_key=$("$lock_bin" --config cluster/cluster.toml --client client-0 whoami)
b_key=$("$lock_bin" --config cluster/cluster.toml --client client-1 whoami)

as A acquire door --lease-ms 3000
expect 0 '^granted token ([0-9]+) until 20[0-9-]+T[0-9:.]+Z$'
token_a=${BASH_REMATCH[1]}

as B acquire door --lease-ms 3000
expect 1 "^held by ${a_key:0:8} with token $token_a until "
as B release door --token "$token_a"
expect 1 "^refused: not the holder \\(held by ${a_key:0:8} until "
as A status door
expect 0 "^held by you with token $token_a until "

say "A stops using its lease; waiting 3.5 s for the log's time to pass its end"
sleep 3.5
as B acquire door --lease-ms 5000
expect 0 '^granted token ([0-9]+) until '
token_b=${BASH_REMATCH[1]}
[ "$token_b" -gt "$token_a" ] || fail "B's token $token_b is not larger than A's $token_a"

as A renew door --token "$token_a" --lease-ms 3000
expect 1 "^refused: not the holder \\(held by ${b_key:0:8} until "
as A release door --token "$token_a"
expect 1 "^refused: not the holder"
as B release door --token "$token_b"
expect 0 "^released token $token_b$"
as A status door
expect 0 '^free$'
say "PASS: tokens $token_a then $token_b; the old holder is refused"
