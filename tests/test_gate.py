"""Readiness gates are bounded waits with a clear failure message."""

from __future__ import annotations

import socket
import subprocess
import time

import pydantic
import pytest

from components.config.access import AccessConfig, Trust
from components.swarm.gate import Probe, gate_script
from tools import mockrun


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
        Trust(insecure=False, ca_file="/etc/ca.pem"),
        resolve="dns.agents.arpa:443:10.0.0.5",
    )
    assert "--resolve dns.agents.arpa:443:10.0.0.5" in p.test
    assert "--cacert /etc/ca.pem" in p.test and " -k " not in p.test
    insecure = Probe.http("https://x.arpa/", Trust(insecure=True, ca_file="/etc/ca.pem"))
    assert " -k " in insecure.test and "--cacert" not in insecure.test


def test_tls_is_verified_by_default_against_the_stacks_own_root() -> None:
    run = mockrun.run("staging")
    root_file = ".agent-os/staging/caddy-root.pem"
    writer = run.one("command:local:Command", "caddy-root-ca-file").plain
    assert writer["environment"]["CA_PATH"] == root_file
    gates = [
        r
        for r in run.by_type("command:local:Command")
        if r.name.endswith("-ready") and "curl" in r.plain["create"]
    ]
    assert gates
    for g in gates:
        assert f"--cacert {root_file}" in g.plain["create"] and " -k " not in g.plain["create"], g.name
    kc = run.one("pulumi:providers:keycloak", "keycloak").plain
    assert (
        kc.get("tlsInsecureSkipVerify") in (False, "false") and "BEGIN CERTIFICATE" in kc["rootCaCertificate"]
    )
    vault = run.one("pulumi:providers:vault", "vault").plain
    assert vault.get("skipTlsVerify") in (False, "false") and vault["caCertFile"] == root_file
    for name in ("dns-records", "openbao-init", "portainer-oauth"):
        env = run.one("command:local:Command", name).plain["environment"]
        flags = {k: v for k, v in env.items() if k.endswith(("_INSECURE", "_CA_FILE"))}
        assert set(flags.values()) == {"0", root_file}, (name, flags)


HOSTILE_HOSTS = [
    "127.0.0.1/1; touch {marker}; echo",
    "$(touch {marker})",
    "`touch {marker}`",
    "x' ; touch {marker}; '",
    'x" ; touch {marker}; "',
    "127.0.0.1/1 && touch {marker} #",
]


def test_a_hostile_host_never_runs_as_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The probe passes host and port as arguments, never splices them into shell code:
    whatever the host says, nothing it names is executed, and the gate does not pass."""
    for i, template in enumerate(HOSTILE_HOSTS):
        marker = tmp_path / f"pwned-{i}"
        host = template.format(marker=marker)
        script = gate_script("Postgres", Probe.tcp(host, _free_port()), timeout_s=1, interval_s=1)
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        assert not marker.exists(), host
        assert out.returncode == 1, (host, out.stdout)


def test_the_config_refuses_a_host_that_is_not_a_hostname_or_address() -> None:
    for bad in ("127.0.0.1; id", "$(id)", "host name", "-oProxyCommand=id", ""):
        with pytest.raises(pydantic.ValidationError):
            AccessConfig(postgres_host=bad)
    for good in ("127.0.0.1", "pg.internal", "db-1.example.org", "::1"):
        assert AccessConfig(postgres_host=good).postgres_host == good


def _gate_triggers(run: mockrun.Run, name: str) -> object:
    return run.one("command:local:Command", name).plain.get("triggers")


def test_a_gate_runs_again_when_the_service_it_guards_changes() -> None:
    """Triggers that never change would leave a replaced Keycloak/Postgres ungated."""
    before = mockrun.run("staging")
    core = {"keycloak": {"resources": {"memory": "1536m", "cpus": 1}}}
    after = mockrun.run("staging", overrides={"agent-os:core": core})
    assert _gate_triggers(before, "keycloak-ready") != _gate_triggers(after, "keycloak-ready")
    # ...and only the gates of what changed.
    assert _gate_triggers(before, "postgres-ready") == _gate_triggers(after, "postgres-ready")
