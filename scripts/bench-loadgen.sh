#!/usr/bin/env bash
# Benchmark of membench's built-in load generator against wrk.
#
# Starts `membench serve` on a free loopback port and drives its /api/ping with wrk and
# with `membench load` in turns — same connections, same duration, same thread count —
# for several rounds, alternating which goes first so drift on a shared machine falls on
# both. Prints each round's RPS, the ratio membench/wrk, and the spread of the ratio
# (the noise of this machine).
#
# Both tools share the cores with the server they measure, so a generator that costs more
# CPU per request leaves less to the server and reads lower: the ratio is the generator's
# efficiency, not a property of the server.
#
# Environment: ROUNDS (3), DURATION seconds (10), CONNECTIONS (32), THREADS (2),
# SERVER_CMD (a command that serves /api/ping and prints `listening on http://ADDR` as its
# first stdout line; default: membench serve).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk" >&2
    apt-get update >/dev/null
    apt-get install -y wrk >/dev/null
fi
if ! command -v jq >/dev/null; then
    echo "bench: installing jq" >&2
    apt-get update >/dev/null
    apt-get install -y jq >/dev/null
fi

cargo build --release --quiet
MEMBENCH=target/release/membench
SERVER_CMD=${SERVER_CMD:-"$MEMBENCH serve --addr 127.0.0.1:0"}

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2086 # SERVER_CMD is a command line.
$SERVER_CMD >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=
for _ in $(seq 100); do
    line=$(head -n 1 "$work/server.out" 2>/dev/null || true)
    if [[ $line == "listening on http://"* ]]; then
        addr=${line#listening on http://}
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "bench: the server exited: $(cat "$work/server.err")" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z $addr ]]; then
    echo "bench: the server printed no listening line within 10 s" >&2
    exit 1
fi
url="http://$addr/api/ping"
echo "server: $SERVER_CMD (pid $server_pid) at $url"
echo "load:   $CONNECTIONS connections, $THREADS threads, ${DURATION} s per run, $ROUNDS rounds"
echo "cores:  $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

run_wrk() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$url")
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
        echo "bench: wrk saw errors: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2
    fi
    awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

run_membench() {
    local json
    json=$("$MEMBENCH" load "$url" --connections "$CONNECTIONS" --threads "$THREADS" \
        --duration "${DURATION}s" --format json)
    if [[ $(jq .errors <<<"$json") != 0 || $(jq .status_2xx <<<"$json") != $(jq .requests <<<"$json") ]]; then
        echo "bench: membench saw errors: $(jq -c '{errors_by_kind, status_4xx, status_5xx}' <<<"$json")" >&2
    fi
    jq .rps <<<"$json"
}

# Warm-up, unmeasured: the server's first connections, pages and caches.
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$url" >/dev/null

ratios=()
printf '%-6s %14s %14s %8s\n' round "wrk RPS" "membench RPS" ratio
for round in $(seq "$ROUNDS"); do
    if ((round % 2 == 1)); then
        wrk_rps=$(run_wrk)
        membench_rps=$(run_membench)
    else
        membench_rps=$(run_membench)
        wrk_rps=$(run_wrk)
    fi
    ratio=$(awk -v m="$membench_rps" -v w="$wrk_rps" 'BEGIN {printf "%.3f", m / w}')
    ratios+=("$ratio")
    printf '%-6s %14.0f %14.0f %8s\n' "$round" "$wrk_rps" "$membench_rps" "$ratio"
done
printf '%s\n' "${ratios[@]}" | awk '
    { sum += $1; if (NR == 1 || $1 < min) min = $1; if (NR == 1 || $1 > max) max = $1 }
    END { printf "ratio membench/wrk: mean %.3f, min %.3f, max %.3f over %d rounds\n", sum / NR, min, max, NR }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
