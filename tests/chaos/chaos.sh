#!/usr/bin/env bash
# Jepsen-style chaos on one machine (scripts/chaos runs it; ctest runs a short one).
#
#   tests/chaos/chaos.sh BIN_DIR SECONDS [SEED] [BEHAVIOUR]
#
# Four replica processes, each in a network namespace of its own, joined by a bridge
# (addresses 10.89.0.10-13, only inside the namespaces), and a client namespace
# (10.89.0.100) where phalanx-chaos-client issues random put/get/del and records a history.
# Replica 3 is Byzantine (phalanx-byzantine-replica --byzantine BEHAVIOUR, default
# equivocate) for the whole run; every replica's transport delays, reorders, loses and
# duplicates a little (--inject-faults). A nemesis hits the correct replicas, one fault at
# a time, each held a few seconds and healed: partitions made with nftables inside the
# namespaces (full, one-way, a bridge node, the primary isolated), a bandwidth limit
# (tc tbf), kill -9 and restart, SIGSTOP and SIGCONT.
#
# At the end, with everything healed: the correct replicas must reach one state digest,
# every process must be alive or have been killed by the nemesis, and the history must be
# linearizable (phalanx-lincheck). Prints the nemesis schedule and the outcome as tables.
# Exit 0 passed, 1 failed (the scratch directory is kept), 77 skipped: not root, or network
# namespaces are not permitted here.
set -euo pipefail

bin=$1 duration=$2 seed=${3:-1} behaviour=${4:-equivocate}
tag=phxc$$                       # names of namespaces, links and the bridge
subnet=10.89.0
port=7400 metrics=7450
byzantine=3
RANDOM=$seed

skip() { echo "chaos: SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces (ip netns)"
command -v nft >/dev/null || skip "nft (nftables) is not installed: scripts/install-deps"
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v nsenter >/dev/null || skip "nsenter (util-linux) is not installed"
ip netns add "$tag-probe" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del "$tag-probe"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/phalanx-chaos.XXXXXX")
label=chaos
declare -A pids=() paused=() killed=()
namespaces=()
stop_processes() {
  for id in "${!pids[@]}"; do
    kill -CONT "${pids[$id]}" 2>/dev/null || true
    kill -9 "${pids[$id]}" 2>/dev/null || true
  done
  [ -z "${client:-}" ] || kill -9 "$client" 2>/dev/null || true
  wait 2>/dev/null || true
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  ip link del "$tag-br" 2>/dev/null || true
}
source "$(dirname "${BASH_SOURCE[0]}")/../support/scratch.sh"

ns_of() { echo "$tag-$1"; }         # r0..r3, cl
in_ns() { local ns=$1; shift; ip netns exec "$(ns_of "$ns")" "$@"; }
# For processes the nemesis signals: `nsenter --net=$(netns_path NAME) PROGRAM &`, called
# directly, so that $! is the program's own pid (nsenter execs it in place). Through
# `ip netns exec` (which forks) or a shell function (a subshell), kill -9 would hit a
# wrapper and leave the replica running.
netns_path() { echo "/run/netns/$(ns_of "$1")"; }
address() { [ "$1" = cl ] && echo "$subnet.100" || echo "$subnet.$((10 + ${1#r}))"; }

# --- the network ----------------------------------------------------------------------
ip link add "$tag-br" type bridge
ip link set "$tag-br" up
join() {  # NAME (r0..r3, cl): a namespace with one veth on the bridge
  local name=$1 ns; ns=$(ns_of "$1")
  ip netns add "$ns"; namespaces+=("$ns")
  ip link add "$tag-$name-h" type veth peer name "$tag-$name-n"
  ip link set "$tag-$name-h" master "$tag-br" up
  ip link set "$tag-$name-n" netns "$ns"
  in_ns "$name" ip link set lo up
  in_ns "$name" ip addr add "$(address "$name")/24" dev "$tag-$name-n"
  in_ns "$name" ip link set "$tag-$name-n" up
  in_ns "$name" nft add table inet chaos
  in_ns "$name" nft add chain inet chaos input '{ type filter hook input priority 0; }'
  in_ns "$name" nft add chain inet chaos output '{ type filter hook output priority 0; }'
}
for name in r0 r1 r2 r3 cl; do join "$name"; done

# --- the cluster ----------------------------------------------------------------------
"$bin/pbft/tools/phalanx-keygen" --out cluster --base-port "$port" \
  --metrics-base-port "$metrics" >/dev/null
for id in 0 1 2 3; do
  sed -i "s|tcp://127.0.0.1:$((port + id))\"|tcp://$(address "r$id"):$((port + id))\"|" cluster/cluster.toml
done
faults="delay=1ms,jitter=2ms,loss=0.01,dup=0.01,seed=$seed"
start_replica() {  # ID
  local id=$1 program=("$bin/examples/kv/phalanx-replica")
  [ "$id" = "$byzantine" ] &&
    program=("$bin/adversary/tools/phalanx-byzantine-replica" --byzantine "$behaviour")
  nsenter --net="$(netns_path "r$id")" -- "${program[@]}" --config cluster/cluster.toml --id "$id" \
    --inject-faults "$faults" >>"r$id.log" 2>&1 &
  pids[$id]=$!
}
status_url() { echo "http://$(address "r$1"):$((metrics + $1))/status"; }
status_via="in_ns cl"
for id in 0 1 2 3; do start_replica "$id"; done

# --- the nemesis ----------------------------------------------------------------------
cut_link() {  # FROM TO: FROM's packets to TO are dropped (both ends' filters)
  in_ns "r$1" nft add rule inet chaos output ip daddr "$(address "r$2")" drop
  in_ns "r$2" nft add rule inet chaos input ip saddr "$(address "r$1")" drop
}
isolate() {  # ID SIDE...: no packets between ID and each of SIDE
  local id=$1; shift
  for other in "$@"; do cut_link "$id" "$other"; cut_link "$other" "$id"; done
}
heal() {
  for id in 0 1 2 3; do
    in_ns "r$id" nft flush table inet chaos
    in_ns "r$id" tc qdisc del dev "$tag-r$id-n" root 2>/dev/null || true
    if [ -n "${paused[$id]:-}" ]; then kill -CONT "${pids[$id]}"; unset "paused[$id]"; fi
    if [ -n "${killed[$id]:-}" ]; then start_replica "$id"; unset "killed[$id]"; fi
    kill -0 "${pids[$id]}" 2>/dev/null || fail "replica $id died, and not by the nemesis"
  done
}
primary() {  # the view's primary, as replica 0 (or 1) reports it
  local view; view=$(field "$(status 0)" view)
  [ -n "$view" ] || view=$(field "$(status 1)" view)
  echo $(( ${view:-0} % 4 ))
}
correct=(0 1 2)
# Not in $(...): a subshell would lose the pauses it records and repeat RANDOM's draws.
pick() { target=${correct[$((RANDOM % ${#correct[@]}))]}; }
others() { for id in 0 1 2 3; do [ "$id" = "$1" ] || printf '%s ' "$id"; done; }
# Applies one fault, chosen by NAME; says what it did in `did`.
nemesis() {
  local a b c
  case $1 in
    partition) pick; isolate "$target" $(others "$target")
               did="partition: r$target | the rest" ;;
    one-way) pick; a=$(( (target + 1 + RANDOM % 3) % 4 ))
             cut_link "$target" "$a"; did="one-way: r$target -> r$a dropped" ;;
    bridge) pick; a=$(( (target + 1) % 4 )) b=$(( (target + 2) % 4 )) c=$(( (target + 3) % 4 ))
            isolate "$a" "$b" "$c"; did="bridge: r$a | r$b r$c, r$target talks to both" ;;
    isolate-primary) target=$(primary)
                     isolate "$target" $(others "$target"); did="primary r$target isolated" ;;
    bandwidth) pick
               in_ns "r$target" tc qdisc add dev "$tag-r$target-n" root tbf rate 256kbit \
                 burst 16kb latency 200ms
               did="bandwidth: r$target limited to 256 kbit/s" ;;
    kill) pick
          kill -9 "${pids[$target]}" || fail "replica $target was gone before the nemesis killed it"
          wait "${pids[$target]}" 2>/dev/null || true
          killed[$target]=1
          did="kill -9 r$target (restarted at heal)" ;;
    pause) pick
           kill -STOP "${pids[$target]}" || fail "replica $target was gone before the nemesis paused it"
           paused[$target]=1
           did="SIGSTOP r$target (SIGCONT at heal)" ;;
  esac
}

wait_serving() {
  for _ in $(seq 1 100); do
    local ready=0
    for id in 0 1 2 3; do [ -n "$(field "$(status "$id")" view)" ] && ready=$((ready + 1)); done
    [ "$ready" = 4 ] && return 0
    sleep 0.2
  done
  fail "replicas did not start serving"
}
wait_serving

say "4 replicas in namespaces $tag-r0..r3 (r$byzantine: $behaviour), faults $faults, ${duration}s"
nsenter --net="$(netns_path cl)" -- "$bin/adversary/tools/phalanx-chaos-client" --config cluster/cluster.toml \
  --out history.txt --seconds "$duration" --workers 8 --keys 32 --timeout-ms 2000 \
  --seed "$seed" >client.txt 2>client.err &
client=$!

kinds=(partition one-way bridge isolate-primary bandwidth kill pause)
hold=5 calm=4
start=$SECONDS
schedule=()
while [ $((SECONDS - start + hold + calm + 10)) -le "$duration" ]; do
  at=$((SECONDS - start))
  before=$(field "$(status 0)" last_executed)
  nemesis "${kinds[$((RANDOM % ${#kinds[@]}))]}"
  sleep "$hold"
  heal
  sleep "$calm"
  after=$(field "$(status 0)" last_executed)
  schedule+=("$(printf '%5s  %-48s %s' "${at}s" "$did" "r0 executed ${before:-?} -> ${after:-?}")")
done
heal
wait $client || fail "phalanx-chaos-client failed: $(cat client.err)"

say "nemesis schedule"
printf '%5s  %-48s %s\n' at fault progress
printf '%s\n' "${schedule[@]}"
cat client.txt

# --- the verdict ----------------------------------------------------------------------
for id in 0 1 2 3; do
  kill -0 "${pids[$id]}" 2>/dev/null || fail "replica $id died, and not by the nemesis"
done
agreed=""
for _ in $(seq 1 150); do
  digests=()
  for id in "${correct[@]}"; do
    line=$(status "$id")
    digests+=("$(field "$line" state_digest_seq) $(field "$line" state_digest)")
  done
  if [ -n "${digests[0]// /}" ] && [ "$(printf '%s\n' "${digests[@]}" | sort -u | wc -l)" = 1 ]; then
    agreed=${digests[0]}
    break
  fi
  sleep 0.4
done
[ -n "$agreed" ] || fail "correct replicas did not reach one state: ${digests[*]}"
say "correct replicas r0 r1 r2 agree: seq ${agreed% *}, state digest ${agreed#* }"
code=0
"$bin/adversary/tools/phalanx-lincheck" history.txt | tee lincheck.txt || code=$?
[ "$code" = 0 ] || fail "the history is not linearizable (or the check ran out of budget)"
say "passed: $(wc -l <history.txt) operations linearizable, ${#schedule[@]} faults, one state"
