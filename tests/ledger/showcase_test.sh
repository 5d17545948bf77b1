#!/usr/bin/env bash
# The ledger showcase against real processes (examples/ledger/showcase: an equivocating
# Byzantine primary, a double spend, an overdraft, a replay; it checks each outcome), then
# `phalanx-ledger verify` on a copy of a correct replica's block store in which one byte of
# history was changed: it must fail, naming the block.
#
# Usage: showcase_test.sh SOURCE_DIR BUILD_DIR BASE_PORT
set -euo pipefail
source_dir=$1 build=$2 base_port=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/phalanx-ledger-showcase.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$source_dir/examples/ledger/showcase" "$build" "$work/run" "$base_port"

cd "$work/run"
cp cluster/data/replica-1/ledger.db tampered.db
# One character of block 2's transfer: its amount's last digit, 100 -> 101.
sqlite3 tampered.db "update transfers set amount = amount + 1 where height = 2"
if "$build/examples/ledger/phalanx-ledger" verify --genesis cluster/genesis.toml \
  --db tampered.db >verify.txt; then
  echo "FAIL: verify accepted a changed history"; cat verify.txt; exit 1
fi
cat verify.txt
grep -q "FAIL tampered.db: block 2" verify.txt || { echo "FAIL: verify did not name block 2"; exit 1; }
# And the untouched original still verifies.
"$build/examples/ledger/phalanx-ledger" verify --genesis cluster/genesis.toml \
  --db cluster/data/replica-1/ledger.db >/dev/null
echo "passed"
