"""The pinned agent-utilities environment, exactly as its era resolved it.

`images/agent-utilities/requirements.lock` is compiled from `requirements.in` with uv's
`--exclude-newer` at the release date in `ERA` (today's dependencies break the pinned
release's start-up). The same lock is what the image build installs, and what the tests
that read the pinned package's own behaviour (its route table) run against.

    python -m tools.appenv build [NAME]   # the venv (cached by the lock's content), prints its path
    python -m tools.appenv lock [NAME]    # recompile images/NAME/requirements.lock from .in and ERA

NAME is an image folder with a requirements.in (default agent-utilities).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "images"
DEFAULT = "agent-utilities"
PYTHON_VERSION = "3.11"


def _uv() -> str:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is not installed (requirements-dev.txt pins it)")
    return uv


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("AGENT_OS_APPENV_CACHE") or Path(base) / "agent-os" / "appenv")


def lock(name: str = DEFAULT) -> None:
    image_dir = IMAGES / name
    era = (image_dir / "ERA").read_text().strip()
    subprocess.run(
        [
            *(_uv(), "pip", "compile", "--quiet", "--universal", "--python-version", PYTHON_VERSION),
            *("--exclude-newer", era, "--generate-hashes", "requirements.in", "-o", "requirements.lock"),
        ],
        cwd=image_dir,
        check=True,
    )


def build(name: str = DEFAULT) -> Path:
    """The venv of images/<name>/requirements.lock, built once per lock content and interpreter."""
    lock_file = IMAGES / name / "requirements.lock"
    key = hashlib.sha256(lock_file.read_bytes() + sys.version.encode()).hexdigest()[:16]
    venv = cache_root() / key
    if (venv / ".complete").exists():
        return venv
    tmp = venv.with_name(f"{key}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    subprocess.run([uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, str(tmp)], check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "sync",
            "--quiet",
            "--require-hashes",
            "--python",
            str(tmp / "bin" / "python"),
            str(lock_file),
        ],
        check=True,
        env={**os.environ, "TMPDIR": str(tmp.parent)},
    )
    (tmp / ".complete").touch()
    shutil.rmtree(venv, ignore_errors=True)
    tmp.rename(venv)
    return venv


def main(argv: list[str]) -> int:
    if len(argv) in (2, 3) and argv[1] in ("lock", "build"):
        name = argv[2] if len(argv) == 3 else DEFAULT
        if not (IMAGES / name / "requirements.in").is_file():
            print(f"no images/{name}/requirements.in", file=sys.stderr)
            return 2
        if argv[1] == "lock":
            lock(name)
        else:
            print(build(name))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
