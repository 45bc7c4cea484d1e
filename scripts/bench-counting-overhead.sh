#!/usr/bin/env bash
# What the counting allocator costs: requests per second of `membench serve` with counting
# on and with --no-counting (MEMBENCH_COUNTING=off), measured with wrk against the same
# endpoint. Both servers run at once and the rounds alternate (on/off, then off/on, ...),
# so drift of a shared machine hits both sides alike. Target: counting costs < 3% of RPS.
#
# Usage: scripts/bench-counting-overhead.sh
# Settings (environment): ROUNDS=3 DURATION=10s THREADS=2 CONNECTIONS=32
#                         ENDPOINT=/api/bigstring ALLOCATOR=jemalloc
# Needs wrk (installed with apt-get when missing). Talks to 127.0.0.1 only.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ENDPOINT=${ENDPOINT:-/api/bigstring}
ALLOCATOR=${ALLOCATOR:-jemalloc}

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found: installing it with apt-get" >&2
    sudo_if_needed=""
    if [ "$(id -u)" -ne 0 ]; then sudo_if_needed="sudo"; fi
    $sudo_if_needed apt-get update
    $sudo_if_needed apt-get install -y wrk
fi

cargo build --release >&2
binary=target/release/membench

workdir=$(mktemp -d)
server_pids=()
cleanup() {
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$workdir"
}
trap cleanup EXIT

# Starts a server and prints its base URL, read from its first stdout line.
start_server() {
    local name=$1
    shift
    "$binary" serve --addr 127.0.0.1:0 --allocator "$ALLOCATOR" "$@" \
        >"$workdir/$name.out" 2>"$workdir/$name.log" &
    server_pids+=($!)
    local deadline=$((SECONDS + 15))
    until [ -s "$workdir/$name.out" ]; do
        if [ $SECONDS -ge $deadline ]; then
            echo "the $name server did not announce itself in 15 s; its log:" >&2
            cat "$workdir/$name.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    local line
    line=$(head -n 1 "$workdir/$name.out")
    echo "${line#listening on }"
}

# Prints the counting_enabled field of a server's diagnostics.
counting_of() {
    curl -fsS "$1/api/diagnostics" | grep -o '"counting_enabled":[a-z]*' | cut -d: -f2
}

# Runs wrk and prints its requests per second.
rps_of() {
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$2" "$1$ENDPOINT" |
        awk '/^Requests\/sec:/ { print $2 }'
}

# Not `url=$(start_server ...)`: that would run in a subshell and lose the server's pid.
start_server on >"$workdir/on.url"
start_server off --no-counting >"$workdir/off.url"
url_on=$(cat "$workdir/on.url")
url_off=$(cat "$workdir/off.url")

if [ "$(counting_of "$url_on")" != true ] || [ "$(counting_of "$url_off")" != false ]; then
    echo "the servers do not run with counting on and off as asked" >&2
    exit 1
fi
echo "counting on:  $url_on" >&2
echo "counting off: $url_off" >&2
echo "wrk -t $THREADS -c $CONNECTIONS -d $DURATION $ENDPOINT, $ROUNDS rounds each, allocator $ALLOCATOR" >&2

# Warm both up (page faults of the first buffers, connection setup) outside the rounds.
rps_of "$url_on" 2s >/dev/null
rps_of "$url_off" 2s >/dev/null

rps_on=()
rps_off=()
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order="on off"; else order="off on"; fi
    for mode in $order; do
        if [ "$mode" = on ]; then
            rps=$(rps_of "$url_on" "$DURATION")
            rps_on+=("$rps")
        else
            rps=$(rps_of "$url_off" "$DURATION")
            rps_off+=("$rps")
        fi
        printf 'round %d  counting %-3s  %10.0f requests/s\n' "$round" "$mode" "$rps"
    done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Each round's pair ran back to back, so its ratio is the least disturbed by drift; the
# median of those ratios is the headline, the medians of RPS are for scale.
ratios=()
for index in "${!rps_on[@]}"; do
    ratios+=("$(awk -v on="${rps_on[$index]}" -v off="${rps_off[$index]}" 'BEGIN { print on / off }')")
done
echo "per-round ratios on/off: ${ratios[*]}"
awk -v on="$(median "${rps_on[@]}")" -v off="$(median "${rps_off[@]}")" -v ratio="$(median "${ratios[@]}")" 'BEGIN {
    printf "median: counting on %.0f requests/s, off %.0f requests/s\n", on, off
    printf "median ratio on/off %.4f: counting costs %.2f%% of RPS (target < 3%%)\n", ratio, (1 - ratio) * 100
}'
