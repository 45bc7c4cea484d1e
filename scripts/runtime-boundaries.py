#!/usr/bin/env python3
"""Measure each reference server's large-object boundary: /api/loh/{size} on both sides of
the runtime's own threshold, under the same bounded closed-loop load, reading the MEASURED
collections from /api/diagnostics before and after.

    scripts/runtime-boundaries.py [--load target/release/membench] [--duration 5] [--repeats 2]
                                  [runtime ...]     # mono jvm go node (default: all present)

Each size gets its own fresh server (so one size's heap does not shape the next), a 1 s
warm-up, then `membench load URL --duration Ns --connections 8 --threads 1`. Sizes of a
pair are interleaved and repeated. Printed per run (one JSON line): RPS, server CPU µs per request,
collections per second and per 1000 requests by kind, and pause seconds per second where
the runtime says.
Traffic goes to 127.0.0.1 only; every run ends by itself.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAIRS = {
    # SGen: objects above 8000 bytes (byte[] header 32 bytes) go to the large object space.
    "mono": [7968, 7969],
    # G1 with 1 MiB regions: byte[n] is n + 16 bytes, humongous above half a region.
    "jvm": [524272, 524288],
    # Go: above 32 KiB an object is a large allocation (own span, whole 8 KiB pages).
    "go": [32768, 32769],
    # Node: Buffers live outside the V8 heap; around CoreCLR's 85,000 and at 1 MiB.
    "node": [84975, 84976, 1048576],
}


def build(runtime, work):
    """The command line that runs `runtime`'s server, or None when its toolchain is missing."""
    if runtime == "mono":
        if not (shutil.which("mcs") and shutil.which("mono")):
            return None
        exe = os.path.join(work, "Server.exe")
        subprocess.run(["mcs", "-nologo", "-warn:0", f"-out:{exe}", "-r:System.Net.Http.dll",
                        "-r:Mono.Posix.dll", os.path.join(ROOT, "runtimes/mono/Server.cs")], check=True)
        return ["mono", exe]
    if runtime == "jvm":
        if not shutil.which("java"):
            return None
        opts = os.environ.get("JVM_OPTS", "-XX:G1HeapRegionSize=1m -Xmx512m").split()
        return ["java", *opts, os.path.join(ROOT, "runtimes/jvm/Server.java")]
    if runtime == "go":
        if not shutil.which("go"):
            return None
        out = os.path.join(work, "go-server")
        env = dict(os.environ, GO111MODULE="off", GOCACHE=os.path.join(work, "gocache"), GOFLAGS="")
        subprocess.run(["go", "build", "-o", out, "server.go"], cwd=os.path.join(ROOT, "runtimes/go"),
                       env=env, check=True)
        return [out]
    if runtime == "node":
        if not shutil.which("node"):
            return None
        return ["node", os.path.join(ROOT, "runtimes/node/server.js")]
    raise SystemExit(f"unknown runtime {runtime}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def diagnostics(addr):
    with urllib.request.urlopen(f"http://{addr}/api/diagnostics", timeout=10) as r:
        return json.load(r)


def one_run(command, size, load, duration):
    server = subprocess.Popen([*command, "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"first line {line!r}")
        addr = line.removeprefix("listening on http://")
        url = f"http://{addr}/api/loh/{size}"
        warm = ["--duration", "1s", "--connections", "8", "--threads", "1"]
        subprocess.run([load, "load", url, *warm], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before, cpu0, t0 = diagnostics(addr), cpu_seconds(server.pid), time.monotonic()
        out = subprocess.run([load, "load", url, "--duration", f"{duration}s", "--connections", "8",
                              "--threads", "1", "--format", "json"], capture_output=True, text=True)
        after, cpu1, t1 = diagnostics(addr), cpu_seconds(server.pid), time.monotonic()
        totals = json.loads(out.stdout)
    finally:
        server.terminate()
        server.wait(timeout=15)
    elapsed = t1 - t0
    requests = after["requests"].get("/api/loh/{size}", 0) - before["requests"].get("/api/loh/{size}", 0)
    gc0, gc1 = before["measured_gc"], after["measured_gc"]
    rates = {k: (v - gc0["collections"].get(k, 0)) / elapsed for k, v in gc1["collections"].items()}
    pause = None
    if gc1.get("pause_seconds_total") is not None:
        pause = (gc1["pause_seconds_total"] - gc0["pause_seconds_total"]) / elapsed
    return {
        "size": size,
        "rps": requests / elapsed,
        "load_ok": totals.get("status_2xx", totals.get("requests")),
        "cpu_us_per_request": (cpu1 - cpu0) * 1e6 / max(requests, 1),
        "collections_per_s": {k: round(v, 1) for k, v in rates.items()},
        # Per 1000 requests: steadier than per second on a busy machine.
        "collections_per_1k_requests": {k: round(v * elapsed * 1000 / max(requests, 1), 2)
                                        for k, v in rates.items()},
        "pause_s_per_s": None if pause is None else round(pause, 4),
        "heap_in_use_bytes": gc1.get("heap_in_use_bytes"),
        "large_object_space_bytes": gc1.get("large_object_space_bytes"),
        "external_bytes": gc1.get("external_bytes"),
        "runtime": f'{after["runtime"]["name"]} {after["runtime"]["version"]}',
        "flags": after["runtime"].get("flags"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runtimes", nargs="*", default=["mono", "jvm", "go", "node"])
    parser.add_argument("--load", default=os.path.join(ROOT, "target/release/membench"))
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not os.access(args.load, os.X_OK):
        raise SystemExit(f"{args.load} not found: cargo build --release (or --load PATH)")
    with tempfile.TemporaryDirectory() as work:
        for runtime in args.runtimes:
            command = build(runtime, work)
            if command is None:
                print(f"{runtime}: skipped (toolchain missing)", file=sys.stderr)
                continue
            for repeat in range(args.repeats):
                for size in PAIRS[runtime]:
                    result = one_run(command, size, args.load, args.duration)
                    print(json.dumps({"repeat": repeat + 1, **result}), flush=True)


if __name__ == "__main__":
    main()
