"""The admin-API scripts' shared connection helper: pinning the TCP peer keeps the URL's
host as TLS server name (SNI) and Host header; each script loads it when run as a file."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from components.swarm.pinned_http import connect

ROOT = Path(__file__).resolve().parents[1]


def test_pinned_https_keeps_sni_and_host_of_the_url(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=sso.test.arpa",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    seen: dict[str, Any] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen["host"] = self.headers["Host"]
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = lambda _sock, name, _ctx: seen.__setitem__("sni", name)
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        conn = connect(f"https://sso.test.arpa:{port}/", connect_to="127.0.0.1", insecure=True, timeout=10)
        conn.request("GET", "/x", headers={"Host": f"sso.test.arpa:{port}"})
        assert conn.getresponse().read() == b"ok"
        conn.close()
        # Verified TLS with the CA file: the certificate is checked against the URL's host.
        conn = connect(
            f"https://sso.test.arpa:{port}/", connect_to="127.0.0.1", ca_file=str(cert), timeout=10
        )
        conn.request("GET", "/y", headers={"Host": f"sso.test.arpa:{port}"})
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        srv.shutdown()
    assert seen["sni"] == "sso.test.arpa"
    assert seen["host"] == f"sso.test.arpa:{port}"


def test_each_admin_script_loads_the_helper_when_run_as_a_file() -> None:
    for script in (
        "components/edge/dnsctl.py",
        "components/core/baoctl.py",
        "components/core/portainerctl.py",
    ):
        out = subprocess.run(
            [sys.executable, "-S", script], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert "Traceback" not in out.stderr, (script, out.stderr)
        assert out.returncode == 2, (script, out.returncode, out.stderr)
