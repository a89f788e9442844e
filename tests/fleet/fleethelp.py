"""Helpers shared by the fleet tests: read what a service mounts, decode configs/secrets."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import yaml

from tools import mockrun

SHARED = Path(__file__).resolve().parents[3] / "shared"
REGISTRY = SHARED / "data" / "mcp-fleet.registry.yml"
SEED_DIR = SHARED / "seed"
CONFIG_TYPE = "docker:index/serviceConfig:ServiceConfig"
SECRET_TYPE = "docker:index/secret:Secret"


def recipe_config_json() -> dict[str, Any]:
    """The recipe's enterprise config.json, read from the seed at test time: the first
    `{...}` block after the "config.json" heading, with // comments stripped."""
    for path in sorted(SEED_DIR.glob("*.txt")):
        text = path.read_text()
        if '"graph_backend"' not in text:
            continue
        start = text.index("{", text.index("config.json (generalized"))
        depth = 0
        for i, ch in enumerate(text[start:], start):
            depth += ch == "{"
            depth -= ch == "}"
            if depth == 0:
                block = text[start : i + 1]
                break
        else:  # pragma: no cover
            raise AssertionError("unbalanced config.json block in the seed")
        block = re.sub(r"^\s*//.*$", "", block, flags=re.M)
        return json.loads(block)
    raise AssertionError(f"no recipe config.json in {SEED_DIR}")


def registry_names(profile: str) -> list[str]:
    doc = yaml.safe_load(REGISTRY.read_text())
    return [s["name"] for s in doc["services"] if profile in s["profiles"]]


def container(run: mockrun.Run, service: str) -> dict[str, Any]:
    return run.services()[service].plain["taskSpec"]["containerSpec"]


def mounted_config(run: mockrun.Run, service: str, target: str) -> str:
    cs = container(run, service)
    names = [c["configName"] for c in cs.get("configs") or [] if c["fileName"] == target]
    assert len(names) == 1, (service, target, names)
    found = [c for c in run.by_type(CONFIG_TYPE) if c.inputs["name"] == names[0]]
    assert len(found) == 1
    return mockrun.b64decode(found[0].inputs["data"])


def mounted_secret(run: mockrun.Run, service: str, target: str) -> tuple[mockrun.Registered, str]:
    """(the Secret resource, its plaintext) mounted at `target` in `service`."""
    cs = container(run, service)
    names = [s["secretName"] for s in cs.get("secrets") or [] if s["fileName"] == target]
    assert len(names) == 1, (service, target, names)
    found = [s for s in run.by_type(SECRET_TYPE) if s.plain["name"] == names[0]]
    assert len(found) == 1
    return found[0], base64.b64decode(found[0].plain["data"]).decode()


def labels(run: mockrun.Run, service: str) -> dict[str, str]:
    return {x["label"]: x["value"] for x in run.services()[service].plain["labels"]}


def connectors(run: mockrun.Run) -> list[str]:
    return sorted(n for n in run.services() if labels(run, n).get("agent-os.kind") == "connector")
