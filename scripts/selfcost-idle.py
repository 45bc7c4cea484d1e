#!/usr/bin/env python3
"""The CPU a membench server spends observing itself, with no load.

Starts `BIN serve` on a free loopback port (`--gc-model none`, as `membench run` starts its
child), lets it settle, then for SECONDS reads its utime+stime from /proc/<pid>/stat while
polling PATH at HZ on one keep-alive connection (HZ=0: no polling; the history sampler
alone), with CONNS more idle keep-alive connections open (a run's 32 connections make
the fd walk and the TCP tables longer). Prints one line: CPU milliseconds per second of
wall time, and per poll.

usage: selfcost-idle.py BIN SECONDS HZ [PATH [CONNS]]
"""
import http.client
import os
import subprocess
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def main():
    binary, seconds, hz = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/api/diagnostics"
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    server = subprocess.Popen(
        [binary, "serve", "--addr", "127.0.0.1:0", "--gc-model", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline().strip()
        addr = line.rsplit("http://", 1)[1].rstrip("/")
        host, port = addr.rsplit(":", 1)
        idle = []
        for _ in range(conns):
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", "/api/ping")
            c.getresponse().read()
            idle.append(c)
        time.sleep(2.0)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        polls = 0
        start_cpu, start = cpu_seconds(server.pid), time.monotonic()
        next_poll = start
        while time.monotonic() - start < seconds:
            if hz > 0:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    sys.exit(f"GET {path} answered {resp.status}")
                polls += 1
                next_poll += 1.0 / hz
                time.sleep(max(0.0, next_poll - time.monotonic()))
            else:
                time.sleep(0.25)
        wall = time.monotonic() - start
        cpu = cpu_seconds(server.pid) - start_cpu
        per_poll = f"{cpu * 1e6 / polls:.0f} us/poll" if polls else "-"
        print(f"{os.path.basename(binary)} hz={hz:g} path={path if hz else '-'} "
              f"wall={wall:.1f}s cpu={cpu * 1e3:.0f}ms cpu_ms_per_s={cpu * 1e3 / wall:.2f} "
              f"polls={polls} {per_poll} conns={conns}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
