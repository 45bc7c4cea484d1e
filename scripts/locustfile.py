"""Locust users for membench's pattern server, used by scripts/locust-watch.sh.

Every user requests one pattern endpoint (MEMBENCH_ENDPOINT, default /api/staticstring, the
static-collection leak) again and again: at MEMBENCH_USER_RPS requests per second each when
that is set above 0 (Locust's constant_throughput, so a leak grows at a known pace instead of
hitting the server's --leak-cap within seconds), else in a closed loop with no think time.
Locust drives the load; `membench watch` samples the server's memory from its /metrics.
Locust's HTTP client sends `Host: 127.0.0.1:PORT`, which the server's Host guard accepts.
"""

import os

from locust import FastHttpUser, constant, constant_throughput, task

ENDPOINT = os.environ.get("MEMBENCH_ENDPOINT", "/api/staticstring")
USER_RPS = float(os.environ.get("MEMBENCH_USER_RPS", "0"))


class PatternUser(FastHttpUser):
    """One virtual user: GET the pattern endpoint, paced or as fast as it answers."""

    wait_time = constant_throughput(USER_RPS) if USER_RPS > 0 else constant(0)

    @task
    def pattern(self):
        self.client.get(ENDPOINT, name=ENDPOINT)
