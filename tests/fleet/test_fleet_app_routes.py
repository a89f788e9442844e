"""Every HTTP path the program makes something call on the app is one the pinned
agent-utilities serves: read from the pinned package's own route tables (the env that
tools/appenv.py builds from images/agent-utilities/requirements.lock), never from a list
we wrote. A Swarm healthcheck on a missing route never turns healthy, and every update
then rolls back."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache

import pytest

from tests.conftest import STACKS, evaluate
from tests.fleet.fleethelp import CONFIG_TYPE, container
from tools import appenv, mockrun

pytestmark = pytest.mark.app

# Which app each service runs (kg-daemon is the gateway process with KG_DAEMON_ROLE=host).
APP_OF = {"agent-gateway": "gateway", "kg-daemon": "gateway", "graph-os": "graph-os"}
SCRIPT = appenv.REPO / "verify" / "app_routes.py"


@cache
def served() -> dict[str, set[tuple[str, str]]]:
    python = appenv.build() / "bin" / "python"
    out = subprocess.run([str(python), str(SCRIPT)], capture_output=True, text=True, check=True, timeout=300)
    return {app: {(m, p) for m, p in rows} for app, rows in json.loads(out.stdout).items()}


def _gets(app: str) -> set[str]:
    return {p for m, p in served()[app] if m == "GET"}


def declared(run: mockrun.Run) -> set[tuple[str, str, str]]:
    """(app, method, path) for every call the stack points at an app process."""
    out: set[tuple[str, str, str]] = set()
    for service, app in APP_OF.items():
        hc = " ".join(container(run, service)["healthcheck"]["tests"])
        out |= {(app, "GET", p) for p in re.findall(r"http://127\.0\.0\.1:\d+(/[^'\" ]*)", hc)}
        labels = {x["label"]: x["value"] for x in run.services()[service].plain.get("labels") or []}
        if "agent-os.metrics.path" in labels:
            out.add((app, "GET", labels["agent-os.metrics.path"]))
    caddyfile = mockrun.b64decode(run.one(CONFIG_TYPE, "caddyfile").inputs["data"])
    for site in re.findall(r"^\S+ \{\n.*?^\}", caddyfile, flags=re.M | re.S):
        for service, app in APP_OF.items():
            if re.search(rf"reverse_proxy [^\n]*\b{service}:", site):
                out |= {(app, "GET", p) for p in re.findall(r"health_uri (\S+)", site)}
    return out


def test_the_pinned_app_serves_health_and_metrics_routes() -> None:
    """Not vacuous: the table is the app's, with the routes the platform relies on."""
    assert {"/health", "/metrics", "/api/dashboard/daemon/shards"} <= _gets("gateway")
    assert ("POST", "/api/fleet/events") in served()["gateway"]
    assert {"/health", "/metrics"} <= _gets("graph-os")


@pytest.mark.parametrize("stack", STACKS)
def test_every_probe_and_scrape_hits_a_route_the_pinned_app_serves(stack: str) -> None:
    calls = declared(evaluate(stack))
    assert {app for app, _, _ in calls} == {"gateway", "graph-os"}
    missing = sorted((app, m, p) for app, m, p in calls if (m, p.split("?", 1)[0]) not in served()[app])
    assert missing == []
