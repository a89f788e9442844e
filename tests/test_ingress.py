"""Ingress is deterministic: Caddy runs on every edge node (so every ingress address the
DNS publishes has a Caddy, and the gates may dial any of them), all instances issue from
one root CA that the stack owns, and Technitium's zone stays on its labelled node."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.conftest import STACKS, evaluate
from tests.edge.caddyhelp import caddyfile_of
from tests.fleet.fleethelp import container


@pytest.mark.parametrize("stack", STACKS)
def test_caddy_runs_on_every_edge_node(stack: str) -> None:
    svc = evaluate(stack).services()["caddy"].plain
    assert svc["mode"] == {"global": True}
    assert svc["taskSpec"]["placement"]["constraints"] == ["node.labels.edge==true"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_caddy_issues_from_the_stacks_own_root(stack: str) -> None:
    run = evaluate(stack)
    text = caddyfile_of(run)
    cert = re.search(r"root \{\n\s*cert (\S+)\n\s*key (\S+)\n", text)
    assert cert, text[:600]
    mounted = {s["fileName"]: s for s in container(run, "caddy").get("secrets") or []}
    assert cert.group(1) in mounted and cert.group(2) in mounted
    root = run.one("command:local:Command", "caddy-root-ca")
    assert root.inputs.get("triggers") in (None, [])  # minted once for the stack's life
    assert root.inputs["logging"] == "none"  # the key never reaches the console or logs


@pytest.mark.parametrize("stack", STACKS)
def test_technitium_is_pinned_with_its_zone(stack: str) -> None:
    svc = evaluate(stack).services()["technitium"].plain
    assert svc["taskSpec"]["placement"]["constraints"] == ["node.labels.dns==true"]
    mounts = {m["target"]: m for m in svc["taskSpec"]["containerSpec"]["mounts"]}
    assert mounts["/etc/dns"]["type"] == "volume"


def test_the_root_ca_script_mints_a_ca_certificate_and_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Run the rendered step for real (openssl), as `pulumi up` does on the operator's machine."""
    run = evaluate("staging")
    step = run.one("command:local:Command", "caddy-root-ca").inputs
    env = {**os.environ, **{k: str(v) for k, v in (step.get("environment") or {}).items()}}
    done = subprocess.run(
        [*step["interpreter"], step["create"]], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    pem = json.loads(done.stdout)
    (tmp_path / "ca.pem").write_text(pem["cert"])
    text = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "ca.pem"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "CA:TRUE" in text and "CN = agent-os stack root" in text
    assert "PRIVATE KEY" in pem["key"]
