#!/usr/bin/env bash
# Drive with Locust, watch with membench: the walk-through of issue 17.
#
# Starts `membench serve` on a free loopback port, then Locust in distributed mode (one
# master, WORKERS workers, headless, from PyPI into a venv under target/) driving one pattern
# endpoint for a bounded time at a bounded user count, while `membench watch` samples the
# server through its /metrics (and /proc of its pid) without generating any load of its own.
# Locust's numbers (its final stats table, and CSV files) and membench's chart land in OUT.
# Every process the script started is stopped on exit, however it exits.
#
# Environment:
#   ENDPOINT   pattern endpoint Locust requests (/api/staticstring, the static-collection leak)
#   SCENARIO   membench scenario the watch is labelled and checked with (staticstring)
#   USERS      Locust users in total (20), SPAWN_RATE users started per second (10)
#   USER_RPS   requests per second of each user (20; 0 = as fast as the server answers):
#              20 users x 20/s x 10 KiB leak about 4 MiB/s, under LEAK_CAP for RUN_TIME
#   WORKERS    Locust worker processes (2)
#   RUN_TIME   how long Locust drives, in seconds (30)
#   LEAK_CAP   the server's --leak-cap, which bounds what a leak can hold (256MiB)
#   OUT        results directory (results/locust-watch-<UTC timestamp>)
#   LOCUST_VERSION  the Locust release installed from PyPI (2.47.0)
set -euo pipefail

ENDPOINT=${ENDPOINT:-/api/staticstring}
SCENARIO=${SCENARIO:-staticstring}
USERS=${USERS:-20}
USER_RPS=${USER_RPS:-20}
SPAWN_RATE=${SPAWN_RATE:-10}
WORKERS=${WORKERS:-2}
RUN_TIME=${RUN_TIME:-30}
LEAK_CAP=${LEAK_CAP:-256MiB}
LOCUST_VERSION=${LOCUST_VERSION:-2.47.0}

cd "$(dirname "$0")/.."
OUT=${OUT:-results/locust-watch-$(date -u +%Y%m%dT%H%M%SZ)}

cargo build --release --quiet
MEMBENCH=target/release/membench
if ! "$MEMBENCH" watch --help >/dev/null 2>&1; then
    echo "locust-watch: this membench has no \`watch\` command; build one that has (issue 17)" >&2
    exit 1
fi

venv=target/locust-venv
if [[ ! -x $venv/bin/locust ]] || ! "$venv/bin/locust" --version | grep -q " $LOCUST_VERSION "; then
    echo "locust-watch: installing locust $LOCUST_VERSION from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "locust==$LOCUST_VERSION"
fi
LOCUST=$venv/bin/locust

mkdir -p "$OUT"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$MEMBENCH" serve --addr 127.0.0.1:0 --leak-cap "$LEAK_CAP" \
    >"$OUT/server.out" 2>"$OUT/server.err" &
server_pid=$!
pids+=("$server_pid")
addr=
for _ in $(seq 100); do
    line=$(head -n 1 "$OUT/server.out" 2>/dev/null || true)
    if [[ $line == "listening on http://"* ]]; then
        addr=${line#listening on http://}
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "locust-watch: the server exited: $(cat "$OUT/server.err")" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z $addr ]]; then
    echo "locust-watch: the server printed no listening line within 10 s" >&2
    exit 1
fi

# The master's port for its workers: a free loopback port, asked of the kernel.
master_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "server: membench serve (pid $server_pid) at http://$addr, --leak-cap $LEAK_CAP"
echo "locust: $LOCUST_VERSION, master + $WORKERS workers, $USERS users (spawn $SPAWN_RATE/s, $USER_RPS requests/s each), GET $ENDPOINT for ${RUN_TIME} s"
echo "watch:  membench watch --metrics http://$addr/metrics --pid $server_pid"

# membench watches from before the first user until after the last: its samples show
# the server idle, under Locust's load, and what the load left behind.
"$MEMBENCH" watch --metrics "http://$addr/metrics" --pid "$server_pid" \
    --scenario "$SCENARIO" --duration "$((RUN_TIME + 10))s" --interval 500ms \
    --rps-metric membench_requests_total --out "$OUT/watch" \
    >"$OUT/watch.out" 2>"$OUT/watch.err" &
watch_pid=$!
pids+=("$watch_pid")

export MEMBENCH_ENDPOINT=$ENDPOINT MEMBENCH_USER_RPS=$USER_RPS
for i in $(seq "$WORKERS"); do
    "$LOCUST" -f scripts/locustfile.py --worker --master-host 127.0.0.1 \
        --master-port "$master_port" >"$OUT/locust-worker-$i.log" 2>&1 &
    pids+=("$!")
done
sleep 2 # a short idle baseline on the chart before Locust's first user
# Failed requests (a 507 once the leak cap is reached) are data in Locust's table, not a
# failure of the walk-through: --exit-code-on-error 0. The master runs in the background and
# is waited for, so a Ctrl-C reaches the trap at once rather than after the run.
"$LOCUST" -f scripts/locustfile.py --headless --master --expect-workers "$WORKERS" \
    --master-bind-host 127.0.0.1 --master-bind-port "$master_port" \
    --host "http://$addr" --users "$USERS" --spawn-rate "$SPAWN_RATE" \
    --run-time "${RUN_TIME}s" --only-summary --csv "$OUT/locust" --exit-code-on-error 0 \
    >"$OUT/locust-master.out" 2>"$OUT/locust-master.log" &
master_pid=$!
pids+=("$master_pid")
if ! wait "$master_pid"; then
    echo "locust-watch: the Locust master failed; see $OUT/locust-master.log" >&2
    exit 1
fi

echo
echo "Locust's numbers (from its master):"
grep -v '^\[' "$OUT/locust-master.log" || true
watch_status=0
wait "$watch_pid" || watch_status=$?
# Reaped: their pids may be reused from now on, so cleanup must not kill them.
running=()
for pid in "${pids[@]}"; do
    [[ $pid == "$watch_pid" || $pid == "$master_pid" ]] || running+=("$pid")
done
pids=("${running[@]}")
if ((watch_status == 0)); then
    echo
    echo "membench watch:"
    cat "$OUT/watch.out"
else
    echo "locust-watch: membench watch failed: $(cat "$OUT/watch.err")" >&2
    exit 1
fi
echo
echo "chart: $OUT/watch/chart.png (and chart.svg, samples.csv, summary.json beside it)"
echo "locust stats: $OUT/locust_stats.csv"
