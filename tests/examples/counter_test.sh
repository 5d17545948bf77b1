#!/usr/bin/env bash
# examples/counter runs and prints what its README says: each total the client got from
# f+1 replicas, then every replica's total, all equal. Its stdout is compared with
# counter.expected (the replicas' log lines go to stderr and are shown, not compared).
# Usage: counter_test.sh PHALANX_COUNTER BASE_PORT EXPECTED_FILE
set -u
counter=$1 base_port=$2 expected=$3

output=$(timeout 60 "$counter" --base-port "$base_port")
status=$?
if [ $status -ne 0 ]; then
  printf '%s\n' "$output"
  echo "counter_test: phalanx-counter exited with status $status"
  exit 1
fi
if ! diff -u --label expected "$expected" --label printed <(printf '%s\n' "$output"); then
  echo "counter_test: phalanx-counter printed something other than $expected"
  exit 1
fi
echo "counter_test: output as expected"
