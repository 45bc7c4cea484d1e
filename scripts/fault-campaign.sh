#!/usr/bin/env bash
# A bounded fault campaign against `membench serve` (issue 14): starts a server on
# 127.0.0.1:0 and runs each attack for a bounded time, printing what it saw — the server's
# open fds and RSS, the status codes, and whether a fresh connection is still accepted.
#
#   scripts/fault-campaign.sh                       # target/release/membench
#   MEMBENCH=/path/to/membench scripts/fault-campaign.sh
#
# Attacks (all on loopback, each bounded in count and time):
#   nested-url    4 parallel GET /api/httpclient2?url=… nested 300 levels into itself
#   slowloris     600 connections that send half a request head, held 13 s
#   slow-readers  12 clients GET /api/array/64MiB and never read
#   host-origin   a foreign Host on GET /api/diagnostics, a foreign Origin on POST /api/reset
# Extra server flags can follow: scripts/fault-campaign.sh --header-timeout 2s
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBENCH="${MEMBENCH:-target/release/membench}"
[[ -x "$MEMBENCH" ]] || { echo "no membench binary at $MEMBENCH; cargo build --release first" >&2; exit 2; }

exec python3 - "$MEMBENCH" "$@" <<'PY'
import os, socket, subprocess, sys, threading, time

binary, extra = sys.argv[1], sys.argv[2:]
server = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--gc-model", "none", *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
line = server.stdout.readline().strip()
if not line.startswith("listening on http://"):
    print(f"the server did not start: {line!r}")
    sys.exit(1)
host, port = line.removeprefix("listening on http://").rsplit(":", 1)
addr = (host, int(port))
pid = server.pid
print(f"server {binary} pid {pid} on {host}:{port}")

def fds():
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1

def rss_mb():
    try:
        with open(f"/proc/{pid}/status") as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1]) / 1024
    except OSError:
        pass
    return -1.0

def request(path, method="GET", headers=None, timeout=10.0):
    """One request with Connection: close; the status code, or the error's name."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    head += "Content-Length: 0\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection(addr, timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(head.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            parts = data.split(b" ", 2)
            return parts[1].decode() if len(parts) > 1 else "closed"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return type(e).__name__

def accepting():
    t = time.monotonic()
    status = request("/api/ping", timeout=5.0)
    return f"{status} in {(time.monotonic() - t) * 1000:.0f} ms"

class Peak:
    """Samples fds and RSS every 100 ms while an attack runs."""
    def __enter__(self):
        self.fds, self.rss, self.stop = fds(), rss_mb(), False
        def run():
            while not self.stop:
                self.fds, self.rss = max(self.fds, fds()), max(self.rss, rss_mb())
                time.sleep(0.1)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self
    def __exit__(self, *_):
        self.stop = True
        self.thread.join()

def report(name, before, peak, statuses):
    counts = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    print(f"[{name}] fds {before[0]} -> peak {peak.fds} -> now {fds()}; "
          f"RSS {before[1]:.0f} -> peak {peak.rss:.0f} -> now {rss_mb():.0f} MB; "
          f"statuses {dict(sorted(counts.items()))}; accept: {accepting()}")

request("/api/ping")

# 1. nested url
levels, parallel = 300, 4
url = f"http://127.0.0.1:{port}/api/ping"
for _ in range(levels):
    url = f"http://127.0.0.1:{port}/api/httpclient2?url={url}"
before = (fds(), rss_mb())
statuses = []
with Peak() as peak:
    threads = [threading.Thread(target=lambda: statuses.append(
        request(f"/api/httpclient2?url={url}", timeout=20.0))) for _ in range(parallel)]
    for t in threads: t.start()
    for t in threads: t.join()
report(f"nested-url {parallel}x{levels} levels", before, peak, statuses)

# 2. slowloris
conns, hold_s = 600, 13.0
before = (fds(), rss_mb())
socks = []
with Peak() as peak:
    for _ in range(conns):
        try:
            s = socket.create_connection(addr, timeout=2)
            s.sendall(f"GET /api/ping HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode())
            socks.append(s)
        except OSError:
            break
    time.sleep(2.0)
    at_2s = fds()
    time.sleep(hold_s - 2.0)
    at_end = fds()
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
print(f"[slowloris {len(socks)} half heads] server fds at 2 s: {at_2s}, at {hold_s:.0f} s: {at_end}; "
      f"closed by the server: {closed}/{len(socks)}")
report("slowloris", before, peak, [])
for s in socks:
    s.close()

# 3. slow readers
readers, size = 12, 64 << 20
before = (fds(), rss_mb())
socks, statuses = [], []
with Peak() as peak:
    for _ in range(readers):
        s = socket.create_connection(addr, timeout=10)
        s.sendall(f"GET /api/array/{size} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        try:
            statuses.append(s.recv(12).split(b" ")[1].decode())
        except (OSError, IndexError):
            statuses.append("closed")
        socks.append(s)
    time.sleep(3.0)
report(f"slow-readers {readers}x64MiB", before, peak, statuses)
for s in socks:
    s.close()

# 4. foreign Host and Origin
origin = request("/api/reset", "POST", headers={"Origin": "http://evil.example"})
# request() sends this server's Host; the foreign one goes alone.
def foreign_host():
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(b"GET /api/diagnostics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        return s.recv(64).split(b" ")[1].decode()
print(f"[host-origin] foreign Host on GET /api/diagnostics: {foreign_host()}; "
      f"foreign Origin on POST /api/reset: {origin}; accept: {accepting()}")

server.terminate()
try:
    server.wait(timeout=10)
except subprocess.TimeoutExpired:
    server.kill()
PY
