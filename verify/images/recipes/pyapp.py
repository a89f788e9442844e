"""The one shape of the stack's Python images (images/python-app.Dockerfile), on Debian:
trixie's python3 (3.13, where the Dockerfile has python:3.11-slim-trixie), a venv at /opt/app
synced hash-checked from images/<name>/requirements.lock, user 10001:10001, /home/app."""

from __future__ import annotations

from pathlib import Path

from ..recipe import REPO, ImageConfig, PythonLock, Recipe

VENV = "/opt/app"


def python_app(name: str, source: str) -> Recipe:
    tag = (REPO / "images" / name / "TAG").read_text().strip()
    # The state directories the program mounts volumes on, owned by the app user (as the
    # Dockerfile's STATE_DIRS build argument does).
    dirs_file = REPO / "images" / name / "STATE_DIRS"
    state_dirs = dirs_file.read_text().split() if dirs_file.exists() else []
    owned = "".join(f"\nmkdir -p {d} && chown 10001:10001 {d}" for d in state_dirs)
    return Recipe(
        name=name,
        alias=f"agent-os/{name}:{tag}",
        source=Path(source),
        packages=("python3", "python3-venv", "ca-certificates", "netbase", "tzdata"),
        python=PythonLock(lock=REPO / "images" / name / "requirements.lock", venv=VENV),
        after="useradd --uid 10001 --user-group --home-dir /home/app --create-home app" + owned,
        config=ImageConfig(
            env={
                "PATH": f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "VIRTUAL_ENV": VENV,
                "LANG": "C.UTF-8",
            },
            user="10001:10001",
            workdir="/home/app",
        ),
        report=("python3", "python3.13"),
    )
