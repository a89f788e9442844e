"""The images the program defaults to and nobody publishes are built from definitions in
images/ (images/build.sh tags them agent-os/<name>:<TAG>); Postgres has both extensions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STACKS, evaluate
from tests.fleet.fleethelp import container

IMAGES = Path(__file__).resolve().parents[1] / "images"
BUILT = sorted(p.name for p in IMAGES.iterdir() if (p / "TAG").is_file())


def built_ref(name: str) -> str:
    return f"agent-os/{name}:{(IMAGES / name / 'TAG').read_text().strip()}"


def test_every_definition_has_a_build_recipe() -> None:
    apps = ["agent-terminal-ui", "agent-utilities", "agent-webui", "epistemic-graph", "postgres-age-pgvector"]
    # staging's single-node-prod connectors, era-pinned (verify/images/recipes/mcp_connectors.py)
    connectors = ["caddy-mcp", "container-manager-mcp", "freshrss-mcp", "openbao-mcp"]
    connectors += ["pulselink-mcp", "technitium-dns-mcp", "vector-mcp"]
    assert sorted(apps + connectors) == BUILT
    for name in BUILT:
        d = IMAGES / name
        assert (d / "Dockerfile").is_file() or (d / "requirements.lock").is_file(), name


@pytest.mark.parametrize("stack", STACKS)
def test_services_run_the_images_built_here(stack: str) -> None:
    run = evaluate(stack)
    expect = {
        "pg-age": "postgres-age-pgvector",
        "agent-gateway": "agent-utilities",
        "kg-daemon": "agent-utilities",
        "graph-os": "agent-utilities",
        "kg-ingest-worker": "agent-utilities",
        "kg-shard-1": "epistemic-graph",
    }
    for service, name in expect.items():
        assert container(run, service)["image"] == built_ref(name), service


def test_postgres_image_has_age_and_pgvector() -> None:
    text = (IMAGES / "postgres-age-pgvector" / "Dockerfile").read_text()
    assert "postgresql-17-age" in text and "postgresql-17-pgvector" in text
    assert "FROM docker.io/library/postgres:17" in text  # the official entrypoint the data layer uses


def test_app_locks_pin_every_package_with_hashes() -> None:
    for name in ("agent-utilities", "epistemic-graph", "agent-webui", "agent-terminal-ui"):
        lock = (IMAGES / name / "requirements.lock").read_text()
        pins = [line for line in lock.splitlines() if line and not line.startswith((" ", "#"))]
        assert pins and all("==" in p for p in pins), name
        assert lock.count("--hash=sha256:") >= len(pins), name


@pytest.mark.parametrize("stack", STACKS)
def test_every_volume_a_python_image_gets_is_a_directory_that_image_gives_its_user(stack: str) -> None:
    """A new named volume takes the owner of the image's directory at its mount point, and
    root's when the image has none: the engine shard (user 10001) then could not open its
    lock file in /var/lib/epistemic-graph/data (found deploying the stack). Each Python
    image lists the state directories it makes for user 10001 in images/<name>/STATE_DIRS."""
    run = evaluate(stack)
    checked = 0
    for name, svc in run.services().items():
        cs = container(run, name)
        image = cs["image"].rsplit("/", 2)
        app = image[-1].split(":")[0]
        if not (IMAGES / app / "requirements.lock").is_file() or (IMAGES / app / "Dockerfile").is_file():
            continue
        dirs = IMAGES / app / "STATE_DIRS"
        state_dirs = dirs.read_text().split() if dirs.exists() else []
        for m in cs.get("mounts", []):
            if m["type"] == "volume":
                assert m["target"] in state_dirs, f"{name}: {m['target']} not in images/{app}/STATE_DIRS"
                checked += 1
        assert svc
    assert checked >= 2  # kg-daemon and every engine shard
    dockerfile = (IMAGES / "python-app.Dockerfile").read_text()
    assert "STATE_DIRS" in dockerfile and "chown 10001:10001" in dockerfile
