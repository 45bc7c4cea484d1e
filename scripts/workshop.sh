#!/usr/bin/env bash
# The workshop gallery: runs the article's pairs, the two single-run leaks and the size
# sweep, then writes one offline page with every chart, table, verdict and a paragraph per
# pair written from this run's numbers.
#
#   bigstring vs staticstring · loh 84975 vs 84976 · array vs pooledarray
#   httpclient1 vs httpclient2 · cache-unbounded vs cache-expiring
#   operation-leak vs operation-scoped
#   fileprovider · clientleak · sweep loh (all allocators)
#   one pattern, every memory manager: loh around each runtime's own boundary and
#   bigstring/staticstring on Rust, Mono, the JVM, Node.js and Go (each one that
#   `membench list --runtimes` finds; the others are named with the package to install)
#
# Usage: scripts/workshop.sh [--out DIR] [--quick] [--duration D] [--runtimes-only]
#   --out DIR       where everything goes (default results/gallery); DIR/index.html is the page
#   --quick         short runs (3 s after a 1 s warm-up, a small sweep): a smoke check
#   --duration D    load duration of each pair's runs (e.g. 20s); default: the scenario's own
#   --runtimes-only only the 'every memory manager' runs (and the page from what DIR holds)
#
# A verdict that does not match does not stop the script: the page shows it. A run that
# crashes is reported here and the script goes on; the page is made from what exists.
# Results are never committed (results/ is git-ignored).
set -euo pipefail

OUT=results/gallery
QUICK=0
RUNTIMES_ONLY=0
PAIR_DURATION=""

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out)
            [[ $# -ge 2 ]] || { echo "workshop: --out needs a directory, e.g. --out results/gallery" >&2; exit 2; }
            OUT=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --runtimes-only) RUNTIMES_ONLY=1; shift ;;
        --duration)
            [[ $# -ge 2 ]] || { echo "workshop: --duration needs a value, e.g. --duration 20s" >&2; exit 2; }
            PAIR_DURATION=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "workshop: unknown argument \"$1\"; expected --out DIR, --quick, --duration D or --runtimes-only" >&2; exit 2 ;;
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
# Every memory manager: 6 runs for Rust (its allocator's boundary, CoreCLR's modelled one,
# the two strings) and 4 per runtime (its boundary, the two strings). 4 s measured after
# 1 s warm-up; a run takes ~7 s with the child's start and stop (the JVM compiles its
# server at each start), so ~2.5 min with all four runtimes.
RUNTIME_ARGS=(--duration 4s --warmup 1s)
RUNTIME_RUN_S=7
if [[ $QUICK == 1 ]]; then
    RUN_ARGS=(--duration 3s --warmup 1s)
    PAIR_ARGS=(--duration 3s --warmup 1s)
    SWEEP_ARGS=(--sizes 64KiB..1MiB,84975,84976 --steps-per-doubling 1 --repeat 2 --duration 1s --warmup 500ms)
    SWEEP_POINTS=$(( 7 * 3 * 2 ))
    SWEEP_POINT_S=3
    PAIR_RUN_S=6
    FILEPROVIDER_S=6
    CLIENTLEAK_S=6
    RUNTIME_ARGS=(--duration 2s --warmup 1s)
    RUNTIME_RUN_S=5
fi
if [[ -n $PAIR_DURATION ]]; then
    PAIR_ARGS=(--duration "$PAIR_DURATION")
    [[ $QUICK == 1 ]] && PAIR_ARGS+=(--warmup 1s)
    PAIR_RUN_S=$(( $(seconds_of "$PAIR_DURATION") + 4 ))
fi

RUNTIME_RUNS=$(( 6 + 4 * 4 ))
if [[ $RUNTIMES_ONLY == 1 ]]; then
    PAIR_RUN_S=0; FILEPROVIDER_S=0; CLIENTLEAK_S=0; SWEEP_POINTS=0
fi
ESTIMATE_S=$(( 12 * PAIR_RUN_S + FILEPROVIDER_S + CLIENTLEAK_S + SWEEP_POINTS * SWEEP_POINT_S + RUNTIME_RUNS * RUNTIME_RUN_S ))
echo "workshop: 12 pair runs, 2 single runs, a sweep of ${SWEEP_POINTS} runs and up to ${RUNTIME_RUNS} runtime runs into ${OUT}" >&2
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

if [[ $RUNTIMES_ONLY == 0 ]]; then
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
fi

# One pattern, every memory manager: single runs gathered in OUT/runtimes/ (the gallery
# reads them as one set). The sizes straddle each runtime's own large-object boundary; the
# gallery's section says why each (src/gallery/runtimes.rs, EXPECTED).
every_memory_manager() {
    local runtimes_dir="$OUT/runtimes"
    rm -rf "${runtimes_dir:?}"
    mkdir -p "$runtimes_dir"
    local listing
    listing=$("$MEMBENCH" list --runtimes)
    local runtime sizes flags size scenario line
    for runtime in rust mono jvm node go; do
        line=$(awk -v rt="$runtime" '$1 == rt' <<<"$listing")
        if [[ $line != *" yes:"* ]]; then
            echo "workshop: skipped ${runtime} in 'every memory manager': ${line#"$runtime"}" >&2
            SKIPPED+=("${runtime} (${line##*apt-get install })")
            continue
        fi
        flags=()
        case "$runtime" in
            rust) sizes="7340032 7340033 84975 84976" ;;
            mono) sizes="7968 7969"; flags=(--runtime mono) ;;
            jvm) sizes="524272 524288"; flags=(--runtime jvm --runtime-arg -XX:G1HeapRegionSize=1m --runtime-arg -Xmx512m) ;;
            node) sizes="131072 131073"; flags=(--runtime node) ;;
            go) sizes="32768 32769"; flags=(--runtime go) ;;
        esac
        for size in $sizes; do
            step "runtimes/${runtime}-loh-${size}" "$MEMBENCH" run loh --size "$size" "${flags[@]}" "${RUNTIME_ARGS[@]}" --out "$runtimes_dir/${runtime}-loh-${size}"
        done
        for scenario in bigstring staticstring; do
            step "runtimes/${runtime}-${scenario}" "$MEMBENCH" run "$scenario" "${flags[@]}" "${RUNTIME_ARGS[@]}" --out "$runtimes_dir/${runtime}-${scenario}"
        done
    done
}
SKIPPED=()
every_memory_manager

echo "workshop: ── gallery" >&2
gallery_status=0
"$MEMBENCH" gallery "$OUT" >/dev/null || gallery_status=$?

if [[ ${#SKIPPED[@]} -gt 0 ]]; then
    echo "workshop: runtimes skipped (not installed; the page names them too): ${SKIPPED[*]}" >&2
fi
if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "workshop: steps that failed (the page shows what they left): ${FAILED[*]}" >&2
fi
if [[ $gallery_status != 0 ]]; then
    echo "workshop: membench gallery exited with status ${gallery_status}" >&2
    exit "$gallery_status"
fi
echo "workshop: open $(cd "$OUT" && pwd)/index.html"
