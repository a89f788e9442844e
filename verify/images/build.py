"""Build the stack's images here from Debian root filesystems, cached by recipe hash.

    .venv/bin/python -m verify.images.build [NAME ...]     (default: all)

No registry is needed: a shared debootstrap base (cached under ~/.cache/agent-os/rootfs/),
per-image packages and files added in a chroot, then `docker import`. Each image is tagged
agent-os-test/<name>:<recipe-hash-16> and the recipe's alias; a hash tag already present is
reused as it is (the alias is re-pointed at it), so a second run builds nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import docker
from docker.errors import ImageNotFound
from docker.models.images import Image

from . import rootfs
from .recipe import CACHE, Recipe
from .recipes import RECIPES

LOCK = CACHE / "images.lock"
LOCK_WAIT_S = 600
LOGS = CACHE / "logs"


@dataclass(frozen=True)
class Result:
    name: str
    tag: str
    alias: str
    built: bool
    seconds: float
    size_mb: float
    versions: str


class BuildError(RuntimeError):
    pass


def acquire_lock() -> IO[str]:
    """One builder at a time on this machine (they share the rootfs and download caches).
    The lock lasts as long as the returned file stays open."""
    CACHE.mkdir(parents=True, exist_ok=True)
    f = LOCK.open("w")
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise BuildError(f"another build holds {LOCK} for over {LOCK_WAIT_S}s") from None
            time.sleep(2)


def find_image(client: docker.DockerClient, tag: str) -> Image | None:
    try:
        return client.images.get(tag)
    except ImageNotFound:
        return None


def ensure_base(recipe: Recipe, log: Path) -> Path:
    tarball = rootfs.base_tarball(recipe.base)
    if tarball.exists():
        return tarball
    t0 = time.monotonic()
    print(f"  base rootfs {recipe.base.suite}/{recipe.base.variant}: building {tarball.name}", flush=True)
    rootfs.build_base(recipe.base, log)
    print(f"  base rootfs: built in {time.monotonic() - t0:.1f}s", flush=True)
    return tarball


def build_image(recipe: Recipe, tag: str, recipe_hash: str, log: Path) -> None:
    tarball = ensure_base(recipe, log)
    rootfs.SCRATCH.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{recipe.name}-", dir=rootfs.SCRATCH))
    root = tmp / "root"
    try:
        rootfs.unpack_base(tarball, root, log)
        with rootfs.chroot_mounts(root, log):
            if recipe.before:
                rootfs.in_chroot("before", root, recipe.before, log, 600)
            rootfs.apt_install(root, recipe.packages, log)
        for w in recipe.wheels:
            rootfs.add_wheel_file(root, w, log)
        for a in recipe.archives:
            rootfs.add_archive(root, a, log)
        rootfs.add_files(root, recipe.files)
        if recipe.python is not None:
            rootfs.install_lock(root, recipe.python, log)
        versions = rootfs.package_versions(root, recipe.report, log)
        with rootfs.chroot_mounts(root, log):
            if recipe.after:
                rootfs.in_chroot("after", root, recipe.after, log, 600)
            rootfs.in_chroot("cleanup", root, rootfs.CLEANUP, log, 300)
        labels = {
            "agent-os.recipe": recipe.name,
            "agent-os.recipe-hash": recipe_hash,
            "agent-os.alias": recipe.alias,
            "agent-os.debian-packages": " ".join(f"{k}={v}" for k, v in sorted(versions.items())),
        }
        rootfs.docker_import(root, tag, rootfs.changes(recipe.config, labels), log)
    finally:
        rootfs.safe_rmtree(tmp)


def ensure(client: docker.DockerClient, recipe: Recipe, uv_version: str) -> Result:
    t0 = time.monotonic()
    recipe_hash = recipe.hash(uv_version)
    tag = recipe.hash_tag(uv_version)
    image = find_image(client, tag)
    built = image is None
    if image is None:
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{recipe.name}.log"
        log.write_text(f"build of {tag} ({recipe.alias}) at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        print(f"{recipe.name}: building {tag} (log: {log})", flush=True)
        try:
            build_image(recipe, tag, recipe_hash, log)
        except (rootfs.StepError, RuntimeError, OSError) as e:
            raise BuildError(f"{recipe.name}: {e}") from e
        image = find_image(client, tag)
        if image is None:
            raise BuildError(f"{recipe.name}: docker import reported success but {tag} is missing")
    repo, _, alias_tag = recipe.alias.rpartition(":")
    if recipe.alias not in image.tags:
        image.tag(repo, alias_tag)
    return Result(
        name=recipe.name,
        tag=tag,
        alias=recipe.alias,
        built=built,
        seconds=time.monotonic() - t0,
        size_mb=float(image.attrs.get("Size", 0)) / 1e6,
        versions=str(image.labels.get("agent-os.debian-packages", "")),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"images to build (default all): {list(RECIPES)}"
    )
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown image(s) {unknown}; known: {list(RECIPES)}")
    client = docker.from_env(timeout=300)
    lock = acquire_lock()
    uv_version = rootfs.uv_version()
    failed = 0
    for name in names:
        try:
            r = ensure(client, RECIPES[name], uv_version)
        except BuildError as e:
            failed += 1
            print(f"{name}: FAILED\n{e}", file=sys.stderr, flush=True)
            continue
        print(
            f"{r.name}: {r.tag} {'built' if r.built else 'reused'} in {r.seconds:.1f}s, "
            f"{r.size_mb:.0f} MB, alias {r.alias}" + (f"\n  {r.versions}" if r.versions else ""),
            flush=True,
        )
    lock.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
