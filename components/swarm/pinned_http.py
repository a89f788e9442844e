"""One HTTP(S) connection helper for the admin-API scripts that pulumi-command runs
(edge/dnsctl.py, core/baoctl.py, core/portainerctl.py). Stdlib only: those scripts run
under the operator's plain `python3`, so they load this file directly, not the package.

`connect_to` pins the TCP peer (an ingress IP, before internal DNS exists) while the URL's
host stays the TLS server name and Host header, so Caddy picks the right certificate.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse


def connect(
    url: str,
    connect_to: str | None = None,
    insecure: bool = False,
    ca_file: str | None = None,
    timeout: float = 30.0,
) -> http.client.HTTPConnection:
    u = urllib.parse.urlsplit(url)
    host = u.hostname or ""
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca_file or None)
        if insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        port = u.port or 443
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
        if connect_to and connect_to != host:
            sock = socket.create_connection((connect_to, port), timeout)
            conn.sock = ctx.wrap_socket(sock, server_hostname=host)
        return conn
    return http.client.HTTPConnection(connect_to or host, u.port or 80, timeout=timeout)


def fetch(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | str | None = None,
) -> tuple[int, bytes]:
    """One request on `conn`, which is closed afterwards: (status, body read)."""
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
