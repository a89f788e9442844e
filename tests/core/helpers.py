"""Shared helpers for the core-layer tests."""

from __future__ import annotations

from typing import Any

import yaml

from tools import mockrun

CONFIG = "docker:index/serviceConfig:ServiceConfig"
COMMAND = "command:local:Command"
SERVICE = "docker:index/service:Service"


def config_text(run: mockrun.Run, logical: str) -> str:
    return mockrun.b64decode(run.one(CONFIG, logical).inputs["data"])


def config_yaml(run: mockrun.Run, logical: str) -> Any:
    return yaml.safe_load(config_text(run, logical))


def container(run: mockrun.Run, service: str) -> dict[str, Any]:
    return run.services()[service].plain["taskSpec"]["containerSpec"]


def task(run: mockrun.Run, service: str) -> dict[str, Any]:
    return run.services()[service].plain["taskSpec"]


def config_id_of(run: mockrun.Run, service: str, target: str) -> str:
    """The ServiceConfig id mounted at `target` in `service`."""
    for c in container(run, service).get("configs") or []:
        if c["fileName"] == target:
            return c["configId"]
    raise LookupError(f"{service} mounts no config at {target}")


def secret_targets(run: mockrun.Run, service: str) -> set[str]:
    return {s["fileName"] for s in container(run, service).get("secrets") or []}


def urn(run: mockrun.Run, type_: str, name: str) -> str:
    return run.one(type_, name).urn
