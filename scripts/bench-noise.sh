#!/usr/bin/env bash
# Does a sweep's conclusion survive a noisy machine? Runs the same `membench sweep` twice —
# once quiet, once with a CPU hog (a busy loop pinned to one core with taskset) — and prints,
# per point, the spread of RPS and of the server's CPU µs per request over the repetitions,
# and which cliffs each sweep called.
#
# Usage: scripts/bench-noise.sh [SWEEP ARGS…]
#   e.g. scripts/bench-noise.sh loh --sizes 256KiB..2MiB --allocator system,jemalloc --duration 2s --warmup 1s
#   (default: exactly that). The arguments go to both sweeps unchanged; do not pass --out.
#
# Environment: OUT (results/bench-noise), HOG_CORE (0).
#
# A spread here is (max − min) ÷ median over a point's repetitions: RPS's moves with the CPU
# the server was given, CPU per request's should barely move. The hog runs only while the
# second sweep runs and is stopped by its pid.
set -euo pipefail

OUT=${OUT:-results/bench-noise}
HOG_CORE=${HOG_CORE:-0}
if [[ $# -eq 0 ]]; then
    set -- loh --sizes 256KiB..2MiB --allocator system,jemalloc --duration 2s --warmup 1s
fi
for arg in "$@"; do
    if [[ $arg == --out || $arg == --out=* ]]; then
        echo "bench-noise: do not pass --out; the sweeps go to \$OUT/quiet and \$OUT/hog (OUT=$OUT)" >&2
        exit 2
    fi
done
command -v taskset >/dev/null || { echo "bench-noise: needs taskset (util-linux)" >&2; exit 2; }

cd "$(dirname "$0")/.."
cargo build --release --quiet
MEMBENCH=target/release/membench
rm -rf "${OUT:?}/quiet" "${OUT:?}/hog"
mkdir -p "$OUT"

HOG_PID=""
stop_hog() {
    if [[ -n $HOG_PID ]]; then
        kill "$HOG_PID" 2>/dev/null || true
        wait "$HOG_PID" 2>/dev/null || true
        HOG_PID=""
    fi
}
trap stop_hog EXIT

echo "bench-noise: ── quiet: membench sweep $*" >&2
"$MEMBENCH" sweep "$@" --out "$OUT/quiet" >"$OUT/quiet.txt" || echo "bench-noise: the quiet sweep exited with $?" >&2

echo "bench-noise: ── with a CPU hog on core $HOG_CORE: membench sweep $*" >&2
# Bounded: an hour at most even if this script is killed before it stops the hog.
taskset -c "$HOG_CORE" timeout 3600 sh -c 'while :; do :; done' &
HOG_PID=$!
"$MEMBENCH" sweep "$@" --out "$OUT/hog" >"$OUT/hog.txt" || echo "bench-noise: the sweep with the hog exited with $?" >&2
stop_hog

python3 - "$OUT/quiet/sweep.json" "$OUT/hog/sweep.json" <<'EOF'
import json, sys

def load(path):
    with open(path) as f:
        return json.load(f)

def spread(low, high, median):
    if low is None or high is None or not median:
        return "—"
    return f"{(high - low) / median * 100:4.0f} %"

def size(b):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= div:
            v = b / div
            return f"{v:.3g} {unit}"
    return f"{b} B"

sweeps = [("quiet", load(sys.argv[1])), ("hog", load(sys.argv[2]))]
print(f"{'point':<22} {'sweep':<6} {'n':>2} {'RPS median':>11} {'RPS spread':>10} {'CPU µs/req':>11} {'CPU spread':>10}")
keys = []
for _, s in sweeps:
    for p in s["points"]:
        k = (s["allocators"].index(p["allocator"]), p["size_bytes"], p["allocator"])
        if k not in keys:
            keys.append(k)
for _, b, allocator in sorted(keys):
    for name, s in sweeps:
        p = next((p for p in s["points"] if p["allocator"] == allocator and p["size_bytes"] == b), None)
        if p is None:
            continue
        cpu = p.get("cpu_us_per_request")
        print(
            f"{allocator + ' ' + size(b):<22} {name:<6} {len(p.get('repetitions', [])):>2} "
            f"{p['rps']:>11.0f} {spread(p.get('rps_min'), p.get('rps_max'), p['rps']):>10} "
            f"{(f'{cpu:.1f}' if cpu else '—'):>11} "
            f"{spread(p.get('cpu_us_per_request_min'), p.get('cpu_us_per_request_max'), cpu):>10}"
        )
for name, s in sweeps:
    cliffs = s["cliffs"]
    print(f"\n{name}: {s['end']}, {len(cliffs)} cliff(s) called")
    for c in cliffs:
        print(
            f"  {c['allocator']} {size(c['from_size_bytes'])} → {size(c['to_size_bytes'])}: "
            f"cost ×{c['cost_ratio']:.2f} (needed > ×{c['required_ratio']:.2f}, on {c['judged_on']}), "
            f"RPS −{c['drop_fraction'] * 100:.0f} %{', held when re-measured' if c.get('remeasured') else ''}"
        )
EOF
echo
for name in quiet hog; do
    echo "── $name: the sweep's own verdict lines"
    grep -E '^(cliff|no cliff|one size)' "$OUT/$name.txt" || true
done
