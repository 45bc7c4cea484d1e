#!/usr/bin/env bash
# The workshop gallery: runs the article's pairs, the two single-run leaks and the size
# sweep, then writes one offline page with every chart, table, verdict and a paragraph per
# pair written from this run's numbers.
#
#   bigstring vs staticstring · loh 84975 vs 84976 · array vs pooledarray
#   httpclient1 vs httpclient2 · cache-unbounded vs cache-expiring
#   operation-leak vs operation-scoped
#   fileprovider · clientleak · sweep loh (all allocators)
#
# Usage: scripts/workshop.sh [--out DIR] [--quick] [--duration D]
#   --out DIR       where everything goes (default results/gallery); DIR/index.html is the page
#   --quick         short runs (3 s after a 1 s warm-up, a small sweep): a smoke check
#   --duration D    load duration of each pair's runs (e.g. 20s); default: the scenario's own
#
# A verdict that does not match does not stop the script: the page shows it. A run that
# crashes is reported here and the script goes on; the page is made from what exists.
# Results are never committed (results/ is git-ignored).
set -euo pipefail

OUT=results/gallery
QUICK=0
PAIR_DURATION=""

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out)
            [[ $# -ge 2 ]] || { echo "workshop: --out needs a directory, e.g. --out results/gallery" >&2; exit 2; }
            OUT=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --duration)
            [[ $# -ge 2 ]] || { echo "workshop: --duration needs a value, e.g. --duration 20s" >&2; exit 2; }
            PAIR_DURATION=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "workshop: unknown argument \"$1\"; expected --out DIR, --quick or --duration D" >&2; exit 2 ;;
    esac
done

if [[ -n $PAIR_DURATION && ! $PAIR_DURATION =~ ^[0-9]+(ms|s|m)$ ]]; then
    echo "workshop: --duration \"$PAIR_DURATION\" is not a duration; expected e.g. 20s, 2m or 500ms" >&2
    exit 2
fi

cd "$(dirname "$0")/.."

# Seconds in a duration such as 30s, 2m, 500ms (for the time estimate only).
seconds_of() {
    local value=$1
    case "$value" in
        *ms) echo $(( ${value%ms} / 1000 )) ;;
        *s) echo "${value%s}" ;;
        *m) echo $(( ${value%m} * 60 )) ;;
        *) echo "$value" ;;
    esac
}

# Per-step arguments. The scenarios' defaults (30 s for the pairs, 10 s fileprovider,
# 15 s clientleak, their pacing) are what they are tuned for; --quick shortens everything.
RUN_ARGS=()
PAIR_ARGS=()
# The log grid plus the two sizes around .NET's large-object boundary: 23 sizes × 3
# allocators, each point measured 3 times in interleaved rounds (a median that one bad run
# cannot move, and a spread). 1 s measured after 0.5 s warm-up per run: CPU µs per request
# over a second stays within ~15 % between repetitions here (RPS: up to ±100 %), and 207 runs
# of 1.5 s plus ~0.3 s for the child server's start and stop (measured: 42 runs of 3 s took
# 3.18 s each) take about 6.5 minutes; membench's own estimate, with 1 s per run for the
# start and stop, says 8.6 — under 10 minutes on 2 cores either way.
SWEEP_ARGS=(--sizes 64KiB..64MiB,84975,84976 --steps-per-doubling 2 --repeat 3 --duration 1s --warmup 500ms)
SWEEP_POINTS=$(( 23 * 3 * 3 ))
SWEEP_POINT_S=2
PAIR_RUN_S=34
FILEPROVIDER_S=14
CLIENTLEAK_S=19
if [[ $QUICK == 1 ]]; then
    RUN_ARGS=(--duration 3s --warmup 1s)
    PAIR_ARGS=(--duration 3s --warmup 1s)
    SWEEP_ARGS=(--sizes 64KiB..1MiB,84975,84976 --steps-per-doubling 1 --repeat 2 --duration 1s --warmup 500ms)
    SWEEP_POINTS=$(( 7 * 3 * 2 ))
    SWEEP_POINT_S=3
    PAIR_RUN_S=6
    FILEPROVIDER_S=6
    CLIENTLEAK_S=6
fi
if [[ -n $PAIR_DURATION ]]; then
    PAIR_ARGS=(--duration "$PAIR_DURATION")
    [[ $QUICK == 1 ]] && PAIR_ARGS+=(--warmup 1s)
    PAIR_RUN_S=$(( $(seconds_of "$PAIR_DURATION") + 4 ))
fi

ESTIMATE_S=$(( 12 * PAIR_RUN_S + FILEPROVIDER_S + CLIENTLEAK_S + SWEEP_POINTS * SWEEP_POINT_S ))
echo "workshop: 12 pair runs, 2 single runs and a sweep of ${SWEEP_POINTS} runs into ${OUT}" >&2
echo "workshop: estimated time $(( ESTIMATE_S / 60 ))m$(printf %02d $(( ESTIMATE_S % 60 )))s after the build" >&2

cargo build --release --quiet
MEMBENCH=target/release/membench
mkdir -p "$OUT"

FAILED=()
# Runs one step; a failure (a crashed server, a bad argument) is reported, not fatal.
step() {
    local name=$1
    shift
    echo "workshop: ── ${name}" >&2
    rm -rf "${OUT:?}/${name}"
    local status=0
    "$@" || status=$?
    if [[ $status != 0 ]]; then
        echo "workshop: ${name} exited with status ${status}; going on with the rest" >&2
        FAILED+=("${name} (status ${status})")
    fi
}

step strings "$MEMBENCH" compare --run bigstring,staticstring "${PAIR_ARGS[@]}" --out "$OUT/strings"
step loh "$MEMBENCH" compare --run loh --size 84975,84976 "${PAIR_ARGS[@]}" --out "$OUT/loh"
step arrays "$MEMBENCH" compare --run array,pooledarray "${PAIR_ARGS[@]}" --out "$OUT/arrays"
step httpclient "$MEMBENCH" compare --run httpclient1,httpclient2 "${PAIR_ARGS[@]}" --out "$OUT/httpclient"
step cache "$MEMBENCH" compare --run cache-unbounded,cache-expiring "${PAIR_ARGS[@]}" --out "$OUT/cache"
step operations "$MEMBENCH" compare --run operation-leak,operation-scoped "${PAIR_ARGS[@]}" --out "$OUT/operations"
step fileprovider "$MEMBENCH" run fileprovider "${RUN_ARGS[@]}" --out "$OUT/fileprovider"
step clientleak "$MEMBENCH" run clientleak "${RUN_ARGS[@]}" --out "$OUT/clientleak"

if "$MEMBENCH" sweep --help >/dev/null 2>&1; then
    step sweep "$MEMBENCH" sweep loh --allocator all "${SWEEP_ARGS[@]}" --out "$OUT/sweep"
else
    echo "workshop: this membench has no sweep subcommand yet; the sweep is skipped" >&2
fi

echo "workshop: ── gallery" >&2
gallery_status=0
"$MEMBENCH" gallery "$OUT" >/dev/null || gallery_status=$?

if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "workshop: steps that failed (the page shows what they left): ${FAILED[*]}" >&2
fi
if [[ $gallery_status != 0 ]]; then
    echo "workshop: membench gallery exited with status ${gallery_status}" >&2
    exit "$gallery_status"
fi
echo "workshop: open $(cd "$OUT" && pwd)/index.html"
