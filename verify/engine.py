"""A real Docker Engine with a single-node Swarm for the tests that need one (tests/stack,
the image and fake checks, the Keycloak rotation test).

`start_engine` uses a running dockerd or starts one (root only), and `docker swarm init`s
when the node is in no swarm; every wait is bounded. One engine serves the whole process:
every caller gets the same `Engine`, and what this module started (dockerd, the swarm) is
stopped only when the process exits, so one test module's teardown can never take the
engine from under a later one (CI's fresh machine has no dockerd before the tests).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

DOCKERD_LOG = Path(os.environ.get("AGENT_OS_DOCKERD_LOG", "/tmp/agent-os-verify-dockerd.log"))


class EngineUnavailableError(Exception):
    """No Docker Engine could be reached or started (the tests that need one skip with this)."""


@dataclass
class Engine:
    client: Any  # docker.DockerClient
    started_dockerd: subprocess.Popen[bytes] | None = None
    created_swarm: bool = False

    @property
    def api(self) -> Any:
        return self.client.api

    def close(self) -> None:
        """A no-op for callers: the shared engine lives until the process exits."""

    def shutdown(self) -> None:
        if self.created_swarm:
            with contextlib.suppress(Exception):
                self.client.swarm.leave(force=True)
        self.client.close()
        if self.started_dockerd is not None:
            self.started_dockerd.terminate()
            try:
                self.started_dockerd.wait(30)
            except subprocess.TimeoutExpired:
                self.started_dockerd.kill()


def _ping(timeout: float = 5) -> Any | None:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception:
        return None


_shared: Engine | None = None


def start_engine(wait_s: float = 60) -> Engine:
    """Use a running dockerd, or start one in the background (root only); the same Engine
    for every caller of this process."""
    global _shared
    if _shared is not None:
        with contextlib.suppress(Exception):
            _shared.client.ping()
            return _shared
    client = _ping()
    proc = None
    if client is None:
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise EngineUnavailableError(
                "no Docker Engine: dockerd not installed (tools/ci-setup.sh installs docker.io)"
            )
        if os.geteuid() != 0:
            raise EngineUnavailableError(
                "no Docker Engine running and not root, so dockerd cannot be started"
            )
        log = DOCKERD_LOG.open("ab")
        proc = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait_s
        while client is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EngineUnavailableError(f"dockerd exited with {proc.returncode}; see {DOCKERD_LOG}")
            time.sleep(1)
            client = _ping()
        if client is None:
            proc.terminate()
            raise EngineUnavailableError(f"dockerd did not answer within {wait_s:.0f}s; see {DOCKERD_LOG}")
    engine = Engine(client=client, started_dockerd=proc)
    state = client.info().get("Swarm", {}).get("LocalNodeState")
    if state != "active":
        try:
            client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        except Exception as e:
            engine.shutdown()
            raise EngineUnavailableError(f"docker swarm init failed: {e}") from e
        engine.created_swarm = True
    _shared = engine
    atexit.register(engine.shutdown)
    return engine


__all__ = [
    "Engine",
    "EngineUnavailableError",
    "start_engine",
]
