"""A synthetic connector registry: the shared one with every service repeated `factor`
times under unique names and host ports, in the same format (read, never copied)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

FIRST_SYNTHETIC_PORT = 20000


def scaled(registry: dict[str, Any], factor: int) -> dict[str, Any]:
    """`factor` copies of every service: copy 0 keeps its name and port, copy k>0 is
    `<name>-x<k>` on a fresh host port."""
    out = copy.deepcopy(registry)
    services: list[dict[str, Any]] = []
    port = FIRST_SYNTHETIC_PORT
    for k in range(factor):
        for svc in registry.get("services") or []:
            s = copy.deepcopy(svc)
            if k:
                s["name"] = f"{svc['name']}-x{k}"
                if "host_port" in s:
                    s["host_port"] = port
                    port += 1
            services.append(s)
    out["services"] = services
    return out


def write_scaled(source: Path, factor: int, dest_dir: Path) -> Path:
    registry = yaml.safe_load(source.read_text())
    dest = dest_dir / f"mcp-fleet.registry.x{factor}.yml"
    dest.write_text(yaml.safe_dump(scaled(registry, factor), sort_keys=False))
    return dest
