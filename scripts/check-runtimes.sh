#!/usr/bin/env bash
# Smoke-checks the reference pattern servers under runtimes/ (Mono, JVM, Node.js, Go).
#
#   scripts/check-runtimes.sh            # every runtime whose toolchain is installed
#   scripts/check-runtimes.sh go node    # only these
#
# For each runtime: build it (mcs / go build; the JVM runs `java Server.java`, Node
# `node server.js`), start it on 127.0.0.1:0, wait for its `listening on http://ADDR`
# line, hit every endpoint with curl (a bad size must answer 400, an unknown path 404),
# send ~2000 /api/bigstring requests, check that /api/diagnostics is JSON in the
# contract (docs/diagnostics-contract.md) with measured GC collections > 0, POST
# /api/reset, then SIGTERM and expect exit status 0. Traffic goes to 127.0.0.1 only.
#
# Toolchains (Debian): mono-runtime mono-mcs libmono-system-net-http4.0-cil
# libmono-posix4.0-cil (Mono); openjdk-17-jdk-headless (JVM); nodejs; golang-go.
# Extra runtime flags: JVM_OPTS (e.g. "-XX:G1HeapRegionSize=1m -Xmx512m"), GOGC,
# MONO_GC_PARAMS, NODE_OPTIONS are passed through.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/check-runtimes.XXXXXX)
BIGSTRING_REQUESTS=${BIGSTRING_REQUESTS:-2000}
SERVER_PID=
FAILED=()
PASSED=()
SKIPPED=()

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

have() { command -v "$1" >/dev/null 2>&1; }

# The command that runs runtime $1's server (after building it), or a reason on stderr
# and status 1 when its toolchain is missing.
server_command() {
    case "$1" in
    mono)
        have mcs && have mono || { say "mono: skipped (install mono-runtime mono-mcs libmono-system-net-http4.0-cil libmono-posix4.0-cil)"; return 1; }
        mcs -nologo -warn:0 -out:"$WORK/Server.exe" -r:System.Net.Http.dll -r:Mono.Posix.dll \
            "$ROOT/runtimes/mono/Server.cs" >&2 || return 2
        echo "mono $WORK/Server.exe"
        ;;
    jvm)
        have java && java --list-modules 2>/dev/null | grep -q '^jdk.compiler' ||
            { say "jvm: skipped (install openjdk-17-jdk-headless)"; return 1; }
        echo "java ${JVM_OPTS:-} $ROOT/runtimes/jvm/Server.java"
        ;;
    node)
        have node || { say "node: skipped (install nodejs)"; return 1; }
        echo "node $ROOT/runtimes/node/server.js"
        ;;
    go)
        have go || { say "go: skipped (install golang-go)"; return 1; }
        (cd "$ROOT/runtimes/go" && GO111MODULE=off GOCACHE="$WORK/gocache" GOFLAGS= \
            go build -o "$WORK/go-server" server.go) >&2 || return 2
        echo "$WORK/go-server"
        ;;
    *)
        say "unknown runtime $1 (mono, jvm, node, go)"
        return 2
        ;;
    esac
}

# expect STATUS METHOD PATH [BODY-SUBSTRING]: one request, checked.
expect() {
    local want=$1 method=$2 path=$3 needle=${4:-} got
    local args=(-s -o "$WORK/body" -w '%{http_code}' --max-time 20 -X "$method")
    # A POST with an empty body and Content-Length: 0 (Mono's HttpListener answers 411
    # to a POST without a length).
    [[ $method == POST ]] && args+=(-d '')
    got=$(curl "${args[@]}" "http://$ADDR$path")
    if [[ "$got" != "$want" ]]; then
        say "  FAIL $method $path: status $got, expected $want: $(head -c 300 "$WORK/body")"
        return 1
    fi
    if [[ -n "$needle" ]] && ! grep -q -- "$needle" "$WORK/body"; then
        say "  FAIL $method $path: body lacks \"$needle\": $(head -c 300 "$WORK/body")"
        return 1
    fi
    return 0
}

# diag FIELD-EXPRESSION: a value from /api/diagnostics, e.g. diag '["leaks"]["staticstring"]["items"]'.
diag() {
    curl -s --max-time 20 "http://$ADDR/api/diagnostics" >"$WORK/diag.json" || return 1
    python3 -c "import json,sys; d=json.load(open('$WORK/diag.json')); print(d$1)"
}

check_runtime() {
    local name=$1 cmd status ok=1
    cmd=$(server_command "$name")
    status=$?
    if [[ $status == 1 ]]; then SKIPPED+=("$name"); return; fi
    if [[ $status != 0 ]]; then say "$name: FAIL (build)"; FAILED+=("$name"); return; fi
    say "$name: $cmd --addr 127.0.0.1:0"
    # shellcheck disable=SC2086 # the command is words on purpose
    $cmd --addr 127.0.0.1:0 >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    local line=
    for _ in $(seq 600); do # up to 60 s: the JVM compiles Server.java first
        line=$(head -n 1 "$WORK/$name.out" 2>/dev/null)
        [[ -n "$line" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ "$line" != "listening on http://"* ]]; then
        say "  FAIL: first stdout line is \"$line\", not \"listening on http://ADDR\"; stderr: $(head -c 2000 "$WORK/$name.err")"
        FAILED+=("$name"); kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
        return
    fi
    ADDR=${line#listening on http://}
    say "  $line"

    expect 200 GET /api/ping pong || ok=0
    expect 200 GET /api/bigstring xxxxxxxx || ok=0
    expect 200 GET /api/staticstring xxxxxxxx || ok=0
    expect 200 GET /api/loh 85000 || ok=0
    expect 200 GET /api/loh/7969 7969 || ok=0
    expect 200 GET /api/array/1000 || ok=0
    expect 200 GET /api/pooledarray/1000 || ok=0
    expect 200 GET /api/cache/unbounded || ok=0
    expect 200 GET /api/cache/expiring || ok=0
    expect 200 GET /api/clientleak connections_held || ok=0
    expect 200 GET /api/httpclient1 '"upstream_status":200' || ok=0
    expect 200 GET /api/httpclient2 '"upstream_status":200' || ok=0
    expect 400 GET '/api/httpclient2?url=http://10.1.2.3/' 'not loopback' || ok=0
    for bad in abc 0 -5 67108865 99999999999999999999999; do
        expect 400 GET "/api/loh/$bad" 'expected a whole number of bytes' || ok=0
    done
    expect 400 GET /api/array/abc 'not a number' || ok=0
    expect 400 GET /api/pooledarray/0 'zero' || ok=0
    expect 404 GET /api/no-such-endpoint 'no endpoint' || ok=0
    expect 405 GET /api/reset POST || ok=0
    if [[ $(diag '["leaks"]["staticstring"]["items"]') != 1 ]]; then
        say "  FAIL: leaks.staticstring.items is not 1 after one /api/staticstring"; ok=0
    fi
    local before
    before=$(diag '["measured_gc"]["collections_total"]')
    # ~2000 bigstrings over one keep-alive connection.
    for _ in $(seq "$BIGSTRING_REQUESTS"); do
        printf 'url = "http://%s/api/bigstring"\noutput = "/dev/null"\n' "$ADDR"
    done >"$WORK/bigstring.curl"
    local t0 t1
    t0=$(date +%s.%N)
    curl -s --max-time 120 -K "$WORK/bigstring.curl" || { say "  FAIL: the bigstring requests failed"; ok=0; }
    t1=$(date +%s.%N)
    if ! python3 -m json.tool "$WORK/diag.json" >/dev/null 2>&1 || ! diag '["pid"]' >/dev/null; then
        say "  FAIL: /api/diagnostics is not JSON: $(head -c 300 "$WORK/diag.json")"; ok=0
    fi
    if ! python3 - "$WORK/diag.json" "$before" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
before = int(sys.argv[2]) if sys.argv[2].isdigit() else 0
problems = []
for field in ["contract_version", "pid", "uptime_s", "requests", "requests_total", "errors", "leaks",
              "runtime", "measured_gc"]:
    if field not in d:
        problems.append(f"no {field}")
gc = d.get("measured_gc", {})
for field in ["collections", "collections_total", "heap_in_use_bytes", "threads"]:
    if field not in gc:
        problems.append(f"no measured_gc.{field}")
total = gc.get("collections_total") or 0
if total <= 0:
    problems.append(f"measured_gc.collections_total is {total}, expected > 0")
if d.get("requests", {}).get("/api/bigstring", 0) < 2000:
    problems.append("requests['/api/bigstring'] < 2000")
rt = d.get("runtime", {})
print(f"  runtime {rt.get('name')} {rt.get('version')}, {rt.get('collector')}")
print(f"  collections {gc.get('collections')} (+{total - before} during the bigstrings), "
      f"heap in use {gc.get('heap_in_use_bytes')} B, threads {gc.get('threads')}")
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
PY
    then ok=0; fi
    say "  $BIGSTRING_REQUESTS bigstrings in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s (one connection, curl)"
    expect 200 POST /api/reset dropped_leak_bytes || ok=0
    if [[ $(diag '["leaks"]["staticstring"]["items"]') != 0 ]]; then
        say "  FAIL: leaks.staticstring.items is not 0 after POST /api/reset"; ok=0
    fi

    kill -TERM "$SERVER_PID"
    local code
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        say "  FAIL: still running 10 s after SIGTERM"; ok=0
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID"
    code=$?
    SERVER_PID=
    if [[ $code != 0 ]]; then say "  FAIL: exit status $code after SIGTERM, expected 0"; ok=0; fi
    if [[ $ok == 1 ]]; then say "$name: ok"; PASSED+=("$name"); else FAILED+=("$name"); fi
}

have curl || { say "curl is needed"; exit 2; }
have python3 || { say "python3 is needed"; exit 2; }
runtimes=("$@")
[[ ${#runtimes[@]} == 0 ]] && runtimes=(mono jvm node go)
for r in "${runtimes[@]}"; do check_runtime "$r"; done
say "passed: ${PASSED[*]:-none}; failed: ${FAILED[*]:-none}; skipped: ${SKIPPED[*]:-none}"
[[ ${#FAILED[@]} == 0 ]]
