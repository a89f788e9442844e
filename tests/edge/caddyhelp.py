"""Read a rendered Caddyfile as Caddy reads it (`caddy adapt`), and find one site's routes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.fleet.fleethelp import CONFIG_TYPE
from tools import mockrun


def caddyfile_of(run: mockrun.Run) -> str:
    """The Caddyfile a run registers (the `caddyfile` Swarm config)."""
    return mockrun.b64decode(run.one(CONFIG_TYPE, "caddyfile").inputs["data"])


def adapt(caddyfile: str, tmp: Path) -> dict[str, Any]:
    caddy = shutil.which("caddy")
    assert caddy, "caddy is needed (tools/ci-setup.sh installs it)"
    path = tmp / "Caddyfile"
    path.write_text(caddyfile)
    out = subprocess.run(
        [caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def site(doc: dict[str, Any], fqdn: str) -> list[dict[str, Any]]:
    """The routes of the site serving `fqdn`."""
    for server in doc["apps"]["http"]["servers"].values():
        for route in server["routes"]:
            if fqdn in [h for m in route.get("match", []) for h in m.get("host", [])]:
                return list(route["handle"][0]["routes"])
    raise AssertionError(f"no site {fqdn}")
