#!/usr/bin/env bash
# phalanx-bench as a user runs it: a short sweep with the baseline, replicas as processes;
# it must print the table and the price of replication, and write JSON and an SVG that
# carry every point. Figures are not judged (a noisy machine), only that they exist.
#   bench_test.sh PHALANX_BENCH BASE_PORT
set -euo pipefail
bench=$1
port=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" --outstanding 1,8 --seconds 1 --warmup 0.5 --baseline --base-port "$port" \
  --json "$work/bench.json" --svg "$work/bench.svg" >"$work/out.txt" 2>"$work/err.txt" || {
  echo "phalanx-bench failed:"; cat "$work/out.txt" "$work/err.txt"; exit 1; }
cat "$work/out.txt"

grep -q '^machine: ' "$work/out.txt"
grep -q '^machine after the runs: ' "$work/out.txt"
grep -q '^ceilings priced with (the faster of each): ' "$work/out.txt"
grep -q 'ceiling' "$work/out.txt"
grep -q 'price of replication' "$work/out.txt"
python3 - "$work/bench.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert [r["label"] for r in runs] == ["replicated n=4", "unreplicated"], runs
for run in runs:
    assert run["ceiling"]["requests_per_second"] > 0, run
    assert [p["outstanding"] for p in run["points"]] == [1, 8], run
    for p in run["points"]:
        assert p["completed"] > 0 and p["failed"] == 0, p
        assert p["cpu_us_per_request"] > 0 and p["server_cpu_us_per_request"] > 0, p
        assert p["latency_ms"]["p50"] <= p["latency_ms"]["p99"], p
replicated, alone = runs
assert replicated["points"][0]["verifies_per_request"] > alone["points"][0]["verifies_per_request"]
assert replicated["config"]["send_to"] == "all", replicated["config"]
assert replicated["config"]["allocator"] in ("jemalloc", "glibc malloc"), replicated["config"]
print("json: ok")
PY
grep -q '<polyline' "$work/bench.svg"
grep -q 'unreplicated' "$work/bench.svg"
echo "svg: ok"

# Requests to the primary only, MAC clients: every request still completes. With
# --replica-log the replicas say on stderr that they run.
"$bench" --outstanding 4 --seconds 1 --warmup 0.5 --send-to primary --client-auth mac \
  --no-machine --replica-log --base-port "$port" --json "$work/primary.json" \
  >"$work/out.txt" 2>"$work/err.txt" || {
  echo "phalanx-bench --send-to primary failed:"; cat "$work/out.txt" "$work/err.txt"; exit 1; }
grep -q 'requests to the primary' "$work/out.txt"
grep -q 'replica 0 running' "$work/err.txt" || { echo "--replica-log: no replica log"; exit 1; }
python3 - "$work/primary.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
assert run["config"]["send_to"] == "primary", run["config"]
point = run["points"][0]
assert point["completed"] > 0 and point["failed"] == 0, point
print("send to the primary: ok")
PY
