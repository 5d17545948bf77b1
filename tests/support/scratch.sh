# Shared by the real-process test scripts (tests/integration/cluster_test.sh,
# tests/lock/cluster_test.sh, tests/chaos/chaos.sh): a scratch directory that is removed on
# exit unless the test failed or keep=1, failure reports that show the replicas' last log
# lines, and a replica's status page.
#
# Source it after setting `scratch` (the directory), `label` (prefix of messages) and a
# function `stop_processes` (stops every process the test started, by pid).

cleanup() {
  stop_processes
  if [ "${keep:-0}" = 1 ]; then echo "logs kept in $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
cd "$scratch"

fail() {
  echo "FAIL ($label): $*" >&2
  # Checkpoints and snapshots come every interval and would hide the events that matter.
  for log in r*.log; do
    [ -f "$log" ] || continue
    echo "--- $log (last 15 lines other than checkpoints and snapshots)"
    grep -v -e " checkpoint stable " -e " snapshot at seq " "$log" | tail -15 || true
  done
  keep=1
  exit 1
}
say() { echo "[$label] $*"; }

# A replica's /status page (empty when it does not answer) and one field of such a page.
# The sourcing script defines status_url ID, where replica ID serves it, and may set
# status_via, a command to fetch it through (the chaos test's replicas are in namespaces).
status() { ${status_via:-} curl -s --max-time 2 "$(status_url "$1")" || true; }
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([0-9a-z]*\)\"\{0,1\}.*/\1/p" <<<"$1"; }
