#!/usr/bin/env bash
# Are the reference servers of other runtimes fast enough not to be the bottleneck they are
# not meant to be? One `membench compare --run bigstring` over every runtime whose
# toolchain is here (Rust included), then each one's RPS and server CPU per request.
#
#   scripts/runtime-bench.sh [DURATION] [CONNECTIONS]      # default 10s, 32
#
# Prints a Markdown table: RPS (measured-phase mean), server CPU % (100 = one core), CPU
# µs per request (= CPU seconds / requests: what one request costs the server), and the
# measured GC rates. Results stay in results/runtime-bench-<UTC time>/ (compare.png too).
# Loopback only; the machine's other load shows up in the numbers, so run it on a quiet one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10s}
CONNECTIONS=${2:-32}
MEMBENCH=${MEMBENCH:-$ROOT/target/release/membench}
[[ -x $MEMBENCH ]] || (cd "$ROOT" && cargo build --release)

runtimes=rust
available=$("$MEMBENCH" list --runtimes)
for r in mono jvm node go; do
    line=$(grep "^$r " <<<"$available")
    if [[ $line == *yes:* ]]; then
        runtimes+=",$r"
    else
        echo "runtime-bench: $r skipped (${line#$r })" >&2
    fi
done
OUT=$ROOT/results/runtime-bench-$(date -u +%Y%m%dT%H%M%SZ)
"$MEMBENCH" compare --run bigstring --runtime "$runtimes" --duration "$DURATION" \
    --connections "$CONNECTIONS" --out "$OUT" >/dev/null

python3 - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
print(f"bigstring, {sys.argv[1]}\n")
print("| runtime | RPS | server CPU % | CPU µs/request | measured GC |")
print("|---|---:|---:|---:|---|")
for summary_path in sorted(out.glob("*/summary.json")):
    s = json.loads(summary_path.read_text())
    load = s["load"]
    rps, cpu = load["rps_mean"], load.get("cpu_percent_mean") or 0.0
    us = cpu / 100.0 / rps * 1e6 if rps > 0 else float("nan")
    gc = s.get("measured_gc")
    name = summary_path.parent.name.split("-")[-1]
    rates = ", ".join(f"{k['kind']} {k['per_s']:.1f}/s" for k in gc["by_kind"]) if gc else "— (no collector)"
    label = gc["label"] if gc else f"Rust ({s['run'].get('allocator')})"
    print(f"| {label} | {rps:,.0f} | {cpu:.0f} | {us:.1f} | {rates} |")
PY
echo "chart: $OUT/compare.png"
