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
