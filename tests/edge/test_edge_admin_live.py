"""The admin allow-list as a real Caddy enforces it: the program's routes (with their admin
surfaces, from the stack plan) rendered by the program's renderer, served over HTTPS from a
root CA minted by the program's own step, and asked over real connections from 127.0.0.1.
Only the upstreams point at a local echo server instead of the services."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.edge.caddy import ROOT_CA_SCRIPT
from components.edge.caddyfile import ROOT_CERT_FILE, ROOT_KEY_FILE, render_caddyfile
from components.plan import stack_plan
from tests.day0.conftest import config_of

ZONE = "staging.agents.arpa"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"upstream"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's root CA, minted by the program's own step (openssl)."""
    out = subprocess.run(["/bin/sh", "-c", ROOT_CA_SCRIPT], capture_output=True, text=True, check=True)
    pem = json.loads(out.stdout)
    d = tmp_path_factory.mktemp("root")
    (d / "cert").write_text(pem["cert"])
    (d / "key").write_text(pem["key"])
    return d


def _serve(allowlist: list[str], upstream: int, root: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    caddy = shutil.which("caddy")
    assert caddy, "caddy is needed (tools/ci-setup.sh installs it)"
    plan = stack_plan(config_of("staging"))
    routes = [
        replace(r, upstreams=(f"127.0.0.1:{upstream}",), health_uri=None, health_port=None)
        for r in (plan.edge.dns_route, *plan.routes)
    ]
    http, https = _free_port(), _free_port()
    text = render_caddyfile(routes, ZONE, http, https, allowlist)
    text = text.replace(ROOT_CERT_FILE, str(root / "cert")).replace(ROOT_KEY_FILE, str(root / "key"))
    text = text.replace("admin 127.0.0.1:2019", f"admin 127.0.0.1:{_free_port()}")
    (tmp / "Caddyfile").write_text(text)
    env = {"HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config")}
    proc = subprocess.Popen(
        [caddy, "run", "--config", str(tmp / "Caddyfile"), "--adapter", "caddyfile"],
        env={**env, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _status(https, "grafana", "/", root) == 200:
            return proc, https
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("caddy did not serve within 30 s")


def _status(port: int, host: str, path: str, root: Path) -> int:
    """One HTTPS request from 127.0.0.1, TLS verified against the stack's root."""
    fqdn = f"{host}.{ZONE}"
    out = subprocess.run(
        [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
            "--cacert", str(root / "cert"), "--resolve", f"{fqdn}:{port}:127.0.0.1",
            f"https://{fqdn}:{port}{path}",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    return int(out.stdout or 0)


CASES = [  # host, path, status when 127.0.0.1 is not on the list
    ("sso", "/admin/master/console/", 403),
    ("sso", "/realms/master/protocol/openid-connect/token", 403),
    ("sso", "/realms/agents/.well-known/openid-configuration", 200),
    ("sso", "/resources/x.js", 200),
    ("sso", "/metrics", 403),
    ("openbao", "/ui/", 403),
    ("openbao", "/v1/sys/seal-status", 403),
    ("openbao", "/v1/auth/approle/login", 200),
    ("portainer", "/", 403),
    ("portainer", "/api/system/status", 403),
    ("dns", "/api/user/login", 403),
    ("grafana", "/login", 200),
    ("gateway", "/health", 200),
]


def test_admin_surfaces_answer_403_to_a_client_off_the_list(
    upstream: int, root: Path, tmp_path: Path
) -> None:
    proc, port = _serve(["192.0.2.7/32"], upstream, root, tmp_path)
    try:
        got = {(h, p): _status(port, h, p, root) for h, p, _ in CASES}
    finally:
        proc.kill()
    assert got == {(h, p): want for h, p, want in CASES}


def test_a_client_on_the_list_reaches_every_admin_surface(upstream: int, root: Path, tmp_path: Path) -> None:
    proc, port = _serve(["127.0.0.1/32"], upstream, root, tmp_path)
    try:
        got = {(h, p): _status(port, h, p, root) for h, p, _ in CASES}
    finally:
        proc.kill()
    assert got == {(h, p): 200 for h, p, _ in CASES}
