"""Readiness gates are bounded waits with a clear failure message."""

from __future__ import annotations

import socket
import subprocess
import time

from components.config.access import AccessConfig
from components.swarm.gate import Probe, gate_script


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gate_fails_within_its_bound_with_a_message() -> None:
    port = _free_port()
    script = gate_script("Postgres", Probe.tcp("127.0.0.1", port), timeout_s=2, interval_s=1)
    t0 = time.monotonic()
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert time.monotonic() - t0 < 10
    assert f"Postgres not ready at tcp://127.0.0.1:{port} after 2s" in out.stderr


def test_gate_passes_once_the_port_listens() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        script = gate_script("Postgres", Probe.tcp("127.0.0.1", port), timeout_s=5, interval_s=1)
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ready"


def test_http_probe_pins_name_and_tls_choice() -> None:
    p = Probe.http(
        "https://dns.agents.arpa/x",
        AccessConfig(ca_file="/etc/ca.pem"),
        resolve="dns.agents.arpa:443:10.0.0.5",
    )
    assert "--resolve dns.agents.arpa:443:10.0.0.5" in p.test
    assert "--cacert /etc/ca.pem" in p.test and " -k " not in p.test
    insecure = Probe.http("https://x.arpa/", AccessConfig())
    assert " -k " in insecure.test
