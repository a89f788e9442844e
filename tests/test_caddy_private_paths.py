"""Paths that are not for the world are not routed: the gateway's and graph-os's /metrics
(Prometheus scrapes them in-cluster). Read with `caddy adapt`, as Caddy reads it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STACKS, evaluate
from tests.fleet.fleethelp import CONFIG_TYPE
from tools import mockrun


def _adapted(stack: str, tmp: Path) -> dict[str, Any]:
    caddy = shutil.which("caddy")
    assert caddy, "caddy is needed (tools/ci-setup.sh installs it)"
    path = tmp / "Caddyfile"
    path.write_text(mockrun.b64decode(evaluate(stack).one(CONFIG_TYPE, "caddyfile").inputs["data"]))
    out = subprocess.run(
        [caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _site(doc: dict[str, Any], host: str) -> list[dict[str, Any]]:
    for server in doc["apps"]["http"]["servers"].values():
        for route in server["routes"]:
            hosts = [h for m in route.get("match", []) for h in m.get("host", [])]
            if host in hosts:
                return list(route["handle"][0]["routes"])
    raise AssertionError(f"no site {host}")


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("service", ["gateway", "graph-os"])
def test_metrics_answer_404_before_any_proxying(stack: str, service: str, tmp_path: Path) -> None:
    zone = evaluate(stack).outputs["zone"]
    routes = _site(_adapted(stack, tmp_path), f"{service}.{zone}")
    handlers = [[h["handler"] for h in r["handle"]] for r in routes]
    blocked = [i for i, r in enumerate(routes) if r.get("match") == [{"path": ["/metrics", "/metrics/*"]}]]
    proxy = [i for i, hs in enumerate(handlers) if "reverse_proxy" in hs]
    assert len(blocked) == 1 and len(proxy) == 1 and blocked[0] < proxy[0], handlers
    assert routes[blocked[0]]["handle"] == [{"handler": "static_response", "status_code": 404}]
