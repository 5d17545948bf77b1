#!/usr/bin/env bash
# One case of the tools tests (tests/tools.cmake), in a scratch directory removed after.
# Usage: keygen_test.sh CASE PHALANX_KEYGEN PHALANX_DEMO CHECK_CLUSTER
set -euo pipefail

case_name=$1 keygen=$2 demo=$3 check_cluster=$4
scratch=$(mktemp -d "${TMPDIR:-/tmp}/phalanx-tools-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }

# Runs phalanx-keygen with the given arguments, expecting it to refuse: non-zero exit,
# exactly one line on stderr that contains $1.
expect_refusal() {
  local expected=$1; shift
  local status=0
  "$keygen" "$@" >out.txt 2>err.txt || status=$?
  [ "$status" -ne 0 ] || fail "phalanx-keygen $* succeeded; expected a refusal"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "phalanx-keygen $* printed more than one error line: $(cat err.txt)"
  grep -qF -- "$expected" err.txt || fail "phalanx-keygen $*: expected '$expected', got: $(cat err.txt)"
  echo "refused as expected: phalanx-keygen $*: $(cat err.txt)"
}

case $case_name in
creates_loadable_cluster)
  "$keygen" --out cluster --replicas 7 --clients 2 --base-port 17100 --cluster-id phalanx-test-7
  [ -f cluster/cluster.toml ] || fail "no cluster.toml"
  for key in replica-{0..6} client-{0,1}; do
    file=cluster/keys/$key.key
    [ -f "$file" ] || fail "missing $file"
    mode=$(stat -c %a "$file")
    [ "$mode" = 600 ] || fail "$file has mode $mode, expected 600"
  done
  [ "$(grep -c '^\[\[replica\]\]' cluster/cluster.toml)" -eq 7 ] || fail "expected 7 replicas"
  ports=$(grep -o 'tcp://127.0.0.1:[0-9]*' cluster/cluster.toml | sort -u | wc -l)
  [ "$ports" -eq 7 ] || fail "expected 7 distinct endpoints, got $ports"
  grep -q '^cluster_id = "phalanx-test-7"$' cluster/cluster.toml || fail "cluster_id not written"
  "$check_cluster" cluster
  # The default: 4 replicas, one client, a random cluster id.
  "$keygen" --out default >/dev/null
  "$check_cluster" default
  grep -qE '^cluster_id = "phalanx-[0-9a-f]{8}"$' default/cluster.toml || fail "bad default cluster_id"
  ;;

refuses_bad_arguments)
  for n in 1 2 3 5 6 8; do
    expect_refusal "PBFT needs n = 3f+1" --out bad --replicas "$n"
  done
  [ ! -e bad ] || fail "a refused run created its output directory"
  touch a-file
  expect_refusal "exists and is not a directory" --out a-file
  mkdir locked && chmod 500 locked
  if [ "$(id -u)" -ne 0 ]; then  # root may write anywhere
    expect_refusal "cannot create directory" --out locked/cluster
  fi
  expect_refusal "cannot create directory" --out a-file/cluster
  expect_refusal "must lie within 1..65535" --out bad --base-port 0
  expect_refusal "must lie within 1..65535" --out bad --base-port 65534
  expect_refusal "overlaps the replica ports" --out bad --base-port 7100 --metrics-base-port 7102
  expect_refusal "cluster_id is" --out bad --cluster-id "$(printf 'x%.0s' {1..65})"
  ;;

refuses_existing_files)
  "$keygen" --out cluster >/dev/null
  before=$(cat cluster/cluster.toml cluster/keys/*.key | sha256sum)
  expect_refusal "cluster/cluster.toml: already exists (use --force to overwrite)" --out cluster
  [ "$(cat cluster/cluster.toml cluster/keys/*.key | sha256sum)" = "$before" ] ||
    fail "a refused run changed the files"
  rm cluster/cluster.toml
  keys_before=$(cat cluster/keys/*.key | sha256sum)
  expect_refusal "cluster/keys/replica-0.key: already exists (use --force to overwrite)" --out cluster
  [ "$(cat cluster/keys/*.key | sha256sum)" = "$keys_before" ] || fail "a refused run changed keys"
  [ ! -e cluster/cluster.toml ] || fail "a refused run wrote cluster.toml"
  # --force replaces everything with fresh keys, still private.
  "$keygen" --out cluster --force >/dev/null
  now=$(cat cluster/cluster.toml cluster/keys/*.key | sha256sum)
  [ "$now" != "$before" ] || fail "--force did not write new keys"
  chmod 644 cluster/keys/replica-1.key
  "$keygen" --out cluster --force >/dev/null
  [ "$(stat -c %a cluster/keys/replica-1.key)" = 600 ] || fail "--force left a key readable by others"
  "$check_cluster" cluster
  ;;

demo_passes_on_generated_cluster)
  "$keygen" --out cluster >/dev/null
  "$demo" --cluster cluster | tee demo.txt
  grep -q "6 of 6 cases as expected" demo.txt || fail "demo summary missing"
  # The demo refuses a cluster whose key file does not match what cluster.toml lists.
  "$keygen" --out other >/dev/null
  cp other/keys/replica-0.key cluster/keys/replica-0.key
  status=0
  "$demo" --cluster cluster >demo.txt 2>&1 || status=$?
  [ "$status" -ne 0 ] || fail "demo accepted a mismatching key file"
  grep -q "but the cluster file lists" demo.txt || fail "unexpected demo error: $(cat demo.txt)"
  ;;

*)
  fail "unknown case"
  ;;
esac
echo "PASS ($case_name)"
