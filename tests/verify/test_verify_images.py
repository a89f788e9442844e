"""The real images, built here from Debian root filesystems and registry artifacts
(verify/images/, cached by recipe hash), each run the way the program runs it and checked
by what it must do (verify/images/check.py): Postgres with AGE + pgvector and a graph,
OpenBao with the program's raft/static-seal HCL surviving a restart, Caddy serving, the
app's entry points, Keycloak ready on its management port, Prometheus with the program's
config and rules, Alertmanager calling the fleet events webhook with the token from its
secret file and a bearer token it fetched with its Keycloak client's credentials, node-exporter reading the host's filesystems."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from verify.engine import start_engine
from verify.images import build, check
from verify.images.recipes import RECIPES

pytestmark = pytest.mark.images


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    """The machine's Docker Engine, started here when none runs (as CI's fresh run needs)."""
    engine = start_engine()
    lock = build.acquire_lock()
    c = docker.from_env(timeout=300)  # image imports of several hundred MB take a while
    yield c
    c.close()
    lock.close()
    engine.close()


def test_every_image_has_a_check() -> None:
    assert set(check.CHECKS) == set(RECIPES)


@pytest.mark.parametrize("name", list(RECIPES))
def test_image_builds_and_runs_as_the_program_runs_it(client: docker.DockerClient, name: str) -> None:
    result = build.ensure(client, RECIPES[name], build.rootfs.uv_version())
    print(
        f"{name}: {'built' if result.built else 'reused'} in {result.seconds:.1f} s ({result.size_mb:.0f} MB)"
    )
    scratch = Path(tempfile.mkdtemp(prefix=f"check-{name}-"))
    started = time.monotonic()
    try:
        check.CHECKS[name](client, result.alias, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{name}: checked in {time.monotonic() - started:.1f} s")
