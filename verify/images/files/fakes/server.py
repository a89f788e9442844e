#!/usr/bin/python3
"""Fakes of the products no image can be built for here: Technitium DNS, Portainer (server
and agent), Grafana, Loki, Tempo and cAdvisor. One file, run under the name of the binary
it stands for (a symlink per binary in each image, as busybox): `technitium`, `portainer`,
`agent`, `run.sh` / `grafana`, `loki`, `tempo`, `cadvisor`.

Each speaks the real product's HTTP API for what agent-os calls (same paths, status codes,
JSON shapes, auth and refusals), keeps its state on the volume the program mounts, and
takes the program's flags, environment and files. Everything else is absent: see
verify/images/MANIFEST.md. Python 3 standard library plus PyYAML (Debian's python3-yaml).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import gzip
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

REVISION = "agent-os-fake"
TECHNITIUM_VERSION = "13.6"
PORTAINER_VERSION = "2.33.2"
GRAFANA_VERSION = "12.2.1"
LOKI_VERSION = "3.5.7"
TEMPO_VERSION = "2.9.0"
CADVISOR_VERSION = "v0.53.0"
STARTED = time.time()


def log(product: str, msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {product}-fake: {msg}", file=sys.stderr, flush=True)


# --- HTTP plumbing ----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    client: str = ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """Query string and urlencoded body together (the body wins)."""
        body = dict(urllib.parse.parse_qsl(self.body.decode(errors="replace"), keep_blank_values=True))
        return self.query | body

    def cookie(self, name: str) -> str:
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return urllib.parse.unquote(v)
        return ""


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])


def json_reply(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), headers=headers or [])


def text_reply(status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), ctype)


def redirect(location: str, cookies: list[str] | None = None) -> Reply:
    return Reply(302, b"", "text/html", [("Location", location), *(("Set-Cookie", c) for c in cookies or [])])


Handler = Callable[[Request], Reply]


class Counter:
    """Requests served, by route and code (exposed on /metrics)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str, int], int] = {}

    def add(self, method: str, route: str, code: int) -> None:
        with self.lock:
            key = (method, route, code)
            self.counts[key] = self.counts.get(key, 0) + 1


def route_of(path: str) -> str:
    """A low-cardinality route label: numbers and ids collapsed."""
    return re.sub(r"/[0-9a-fA-F-]{6,}|/\d+", "/:id", path)[:80]


def serve(
    port: int, handler: Handler, counter: Counter | None = None, tls: ssl.SSLContext | None = None
) -> None:
    """Serve `handler` on 0.0.0.0:`port` in a thread (HTTP/1.1, threading)."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "agent-os-fake"

        def _do(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = self._chunked()
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
            req = Request(self.command, u.path, q, self.headers, body, self.client_address[0])
            try:
                reply = handler(req)
            except Exception as e:  # a fake's bug must show, not hang the client
                log("http", f"{self.command} {u.path}: {type(e).__name__}: {e}")
                reply = json_reply(500, {"message": f"fake error: {type(e).__name__}: {e}"})
            if counter is not None:
                counter.add(self.command, route_of(u.path), reply.status)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for k, v in reply.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def _chunked(self) -> bytes:
            out = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _do  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("0.0.0.0", port), H)
    srv.daemon_threads = True
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def exposition(prefix: str, version: str, counter: Counter, extra: str = "") -> str:
    """Minimal valid Prometheus text: build info, start time, requests served."""
    lines = [
        f"# HELP {prefix}_build_info A metric with a constant '1' value labeled by version and revision.",
        f"# TYPE {prefix}_build_info gauge",
        f'{prefix}_build_info{{version="{version}",revision="{REVISION}",branch="",goversion=""}} 1',
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {STARTED:.3f}",
        f"# HELP {prefix}_fake_requests_total Requests served by the fake, by route and status code.",
        f"# TYPE {prefix}_fake_requests_total counter",
    ]
    with counter.lock:
        for (method, route, code), n in sorted(counter.counts.items()):
            lines.append(
                f'{prefix}_fake_requests_total{{method="{method}",route="{route}",status_code="{code}"}} {n}'
            )
    return "\n".join(lines) + "\n" + extra


def wait_forever() -> None:
    """Block until SIGTERM/SIGINT, then exit 0 (as the real servers do on a stop)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sys.exit(0)


class Store:
    """A JSON document on the service's volume, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return doc if isinstance(doc, dict) else None

    def save(self, doc: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.path)


def read_secret_file(path: str) -> str:
    """A password file's content without its trailing newline(s)."""
    return Path(path).read_text().rstrip("\r\n")


def pbkdf2(password: str, salt: str) -> str:
    """Grafana's own password hash (pkg/util/encoding.go: PBKDF2-SHA256, 10000, 50 bytes)."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000, 50).hex()


def go_flags(argv: list[str], known: set[str], product: str) -> dict[str, str]:
    """Go `flag`-style arguments (-name=value, --name value, -bool): unknown ones are an
    error, as Go's flag package makes them (exit 2)."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            out.setdefault("_args", "")
            out["_args"] += a + "\n"
            i += 1
            continue
        name, eq, value = a.lstrip("-").partition("=")
        if name not in known:
            print(f"flag provided but not defined: -{name}", file=sys.stderr)
            print(f"Usage of {product}: see the real binary's -help", file=sys.stderr)
            sys.exit(2)
        if not eq:
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            if known_bool(name) or nxt is None or nxt.startswith("-"):
                value = "true"
            else:
                value, i = nxt, i + 1
        out[name] = value
        i += 1
    return out


BOOL_FLAGS = {
    "version",
    "docker_only",
    "store_container_labels",
    "logtostderr",
    "tlsskipverify",
    "config.expand-env",
    "print-config-stderr",
    "log-config-reverse-order",
    "help",
}


def known_bool(name: str) -> bool:
    return name in BOOL_FLAGS


# --- Technitium DNS Server ----------------------------------------------------------------

TECHNITIUM_INTERNAL_ZONES = ("0.in-addr.arpa", "127.in-addr.arpa", "255.in-addr.arpa", "localhost")
INVALID_TOKEN = {"status": "invalid-token", "errorMessage": "Invalid token or session expired."}


class Technitium:
    """Technitium DNS Server's HTTP API (DnsServer APIDOCS.md, v13.6) for what dnsctl.py
    calls: every call answers HTTP 200 and reports failure in the JSON `status`; the admin
    password is taken from the password file only on the first start and changed later only
    through /api/user/changePassword (whose parameters changed in v14: `version`)."""

    def __init__(
        self,
        password: str = "admin",
        version: str = TECHNITIUM_VERSION,
        domain: str = "dns-server",
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.password = password
        self.version = version
        self.domain = domain
        self.password_changes = 0
        self.zones: set[str] = set()
        self.records: dict[tuple[str, str], str] = {}  # (name, ip) -> comment
        self.ttls: dict[tuple[str, str], int] = {}
        self.sessions: dict[str, str] = {}  # token -> user
        self.calls: list[str] = []
        self.lock = threading.RLock()
        self.on_change = on_change

    # state kept on the volume (/etc/dns)
    def state(self) -> dict[str, Any]:
        return {
            "password": self.password,
            "password_changes": self.password_changes,
            "zones": sorted(self.zones),
            "records": [
                [n, ip, c, self.ttls.get((n, ip), 3600)] for (n, ip), c in sorted(self.records.items())
            ],
        }

    def restore(self, doc: Mapping[str, Any]) -> None:
        self.password = str(doc["password"])
        self.password_changes = int(doc.get("password_changes", 0))
        self.zones = set(doc.get("zones", []))
        for n, ip, c, ttl in doc.get("records", []):
            self.records[(n, ip)] = c
            self.ttls[(n, ip)] = int(ttl)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def zone_of(self, name: str) -> str | None:
        """The closest enclosing zone of `name`."""
        name = name.lower().rstrip(".")
        found = [z for z in self.zones if name == z or name.endswith("." + z)]
        return max(found, key=len) if found else None

    def _info(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "uptimestamp": "",
            "dnsServerDomain": self.domain,
            "defaultRecordTtl": 3600,
        }

    def handle(self, path: str, q: Mapping[str, str]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(path)
            return self._handle(path, q)

    def _handle(self, path: str, q: Mapping[str, str]) -> dict[str, Any]:
        if path == "/api/user/login":
            if q.get("user") != "admin" or q.get("pass") != self.password:
                return {
                    "status": "error",
                    "errorMessage": f"Invalid username or password for user: {q.get('user', '')}",
                }
            token = secrets.token_hex(32)
            self.sessions[token] = "admin"
            reply: dict[str, Any] = {"displayName": "Administrator", "username": "admin", "token": token}
            if q.get("includeInfo") == "true":
                reply["info"] = self._info()
            return {**reply, "status": "ok"}
        token = q.get("token", "")
        if token not in self.sessions:
            return dict(INVALID_TOKEN)
        if path == "/api/user/session/get":
            return {
                "displayName": "Administrator",
                "username": "admin",
                "token": token,
                "info": self._info(),
                "status": "ok",
            }
        if path == "/api/user/logout":
            self.sessions.pop(token, None)
            return {"status": "ok"}
        if path == "/api/user/changePassword":
            return self._change_password(q)
        if path == "/api/zones/list":
            return self._zones_list()
        if path == "/api/zones/create":
            zone = q.get("zone", "").lower().rstrip(".")
            if not zone:
                return {"status": "error", "errorMessage": "Parameter 'zone' missing."}
            if q.get("type", "Primary") != "Primary":
                return {"status": "error", "errorMessage": "the agent-os fake creates Primary zones only"}
            if zone in self.zones:
                return {"status": "error", "errorMessage": f"Zone already exists: {zone}"}
            self.zones.add(zone)
            self._changed()
            return {"response": {"domain": zone}, "status": "ok"}
        if path == "/api/zones/delete":
            zone = q.get("zone", "").lower().rstrip(".")
            if zone not in self.zones:
                return {"status": "error", "errorMessage": f"No such zone was found: {zone}"}
            self.zones.discard(zone)
            for key in [k for k in self.records if self.zone_of(k[0]) is None]:
                self.records.pop(key)
            self._changed()
            return {"status": "ok"}
        if path == "/api/zones/records/get":
            return self._records_get(q)
        if path == "/api/zones/records/add":
            return self._records_add(q)
        if path == "/api/zones/records/delete":
            return self._records_delete(q)
        return {
            "status": "error",
            "errorMessage": f"Invalid endpoint: {path} (not served by the agent-os fake)",
        }

    def _change_password(self, q: Mapping[str, str]) -> dict[str, Any]:
        if int(self.version.split(".")[0]) >= 14:  # pass: the current one, newPass: the new one
            if q.get("pass") != self.password:
                return {"status": "error", "errorMessage": "Invalid password for user: admin"}
            new = q.get("newPass")
        else:  # up to v13: pass is the new password
            new = q.get("pass")
        if not new:
            return {"status": "error", "errorMessage": "Parameter 'pass' missing."}
        self.password = new
        self.password_changes += 1
        self._changed()
        return {"status": "ok"}

    def _zones_list(self) -> dict[str, Any]:
        zones = [
            {"name": z, "type": "Primary", "internal": False, "dnssecStatus": "Unsigned", "disabled": False}
            for z in sorted(self.zones)
        ]
        internal = [
            {"name": z, "type": "Primary", "internal": True, "dnssecStatus": "Unsigned", "disabled": False}
            for z in TECHNITIUM_INTERNAL_ZONES
        ]
        everything = sorted(zones + internal, key=lambda z: str(z["name"]))
        return {
            "response": {
                "pageNumber": 1,
                "totalPages": 1,
                "totalZones": len(everything),
                "zones": everything,
            },
            "status": "ok",
        }

    def _zone_param(self, q: Mapping[str, str]) -> tuple[str, str | None]:
        domain = q.get("domain", "").lower().rstrip(".")
        zone = q.get("zone", "").lower().rstrip(".") or self.zone_of(domain)
        if zone and zone not in self.zones:
            return domain, None
        if zone and not (domain == zone or domain.endswith("." + zone)):
            return domain, None
        return domain, zone

    def _records_get(self, q: Mapping[str, str]) -> dict[str, Any]:
        domain, zone = self._zone_param(q)
        if zone is None:
            return {"status": "error", "errorMessage": f"No such zone was found: {q.get('zone') or domain}"}
        everything = q.get("listZone") == "true"
        recs: list[dict[str, Any]] = []
        if everything or domain == zone:
            soa = {
                "primaryNameServer": self.domain,
                "responsiblePerson": f"hostadmin@{self.domain}",
                "serial": 1,
            }
            recs.append({"disabled": False, "name": zone, "type": "SOA", "ttl": 900, "rData": soa})
            recs.append(
                {
                    "disabled": False,
                    "name": zone,
                    "type": "NS",
                    "ttl": 3600,
                    "rData": {"nameServer": self.domain},
                }
            )
        for (n, ip), c in sorted(self.records.items()):
            if self.zone_of(n) == zone and (everything or n == domain):
                rtype = "AAAA" if ":" in ip else "A"
                recs.append(
                    {
                        "disabled": False,
                        "name": n,
                        "type": rtype,
                        "ttl": self.ttls.get((n, ip), 3600),
                        "rData": {"ipAddress": ip},
                        "dnssecStatus": "Unknown",
                        "comments": c,
                    }
                )
        return {
            "response": {"zone": {"name": zone, "type": "Primary", "internal": False}, "records": recs},
            "status": "ok",
        }

    def _records_add(self, q: Mapping[str, str]) -> dict[str, Any]:
        domain, zone = self._zone_param(q)
        if zone is None:
            return {"status": "error", "errorMessage": f"No such zone was found: {q.get('zone') or domain}"}
        rtype, ip = q.get("type", ""), q.get("ipAddress", "")
        if rtype not in ("A", "AAAA"):
            return {
                "status": "error",
                "errorMessage": f"the agent-os fake keeps A/AAAA records only, not {rtype}",
            }
        try:
            socket.inet_pton(socket.AF_INET if rtype == "A" else socket.AF_INET6, ip)
        except OSError:
            return {"status": "error", "errorMessage": f"Invalid IP address: {ip}"}
        key = (domain, ip)
        if q.get("overwrite") == "true":
            for k in [k for k in self.records if k[0] == domain and (":" in k[1]) == (rtype == "AAAA")]:
                self.records.pop(k)
        elif key in self.records:
            return {"status": "error", "errorMessage": "Cannot add record: record already exists."}
        self.records[key] = q.get("comments", "")
        self.ttls[key] = int(q.get("ttl") or 3600)
        self._changed()
        added = {
            "name": domain,
            "type": rtype,
            "ttl": self.ttls[key],
            "rData": {"ipAddress": ip},
            "comments": self.records[key],
        }
        return {"response": {"zone": {"name": zone}, "addedRecord": added}, "status": "ok"}

    def _records_delete(self, q: Mapping[str, str]) -> dict[str, Any]:
        domain, zone = self._zone_param(q)
        if zone is None:
            return {"status": "error", "errorMessage": f"No such zone was found: {q.get('zone') or domain}"}
        self.records.pop((domain, q.get("ipAddress", "")), None)
        self._changed()
        return {"status": "ok"}

    # DNS over UDP/TCP 53: authoritative answers from the zones above
    def dns_answer(self, msg: bytes) -> bytes | None:
        if len(msg) < 12:
            return None
        tid, flags, qdcount = struct.unpack(">HHH", msg[:6])
        if flags & 0x8000 or qdcount != 1:
            return None
        labels: list[str] = []
        i = 12
        while i < len(msg) and msg[i] != 0:
            n = msg[i]
            labels.append(msg[i + 1 : i + 1 + n].decode(errors="replace"))
            i += 1 + n
        i += 1
        if i + 4 > len(msg):
            return None
        qtype, _qclass = struct.unpack(">HH", msg[i : i + 4])
        question = msg[12 : i + 4]
        name = ".".join(labels).lower()
        with self.lock:
            zone = self.zone_of(name)
            ips = [ip for (n, ip) in self.records if n == name]
            ttl = {ip: self.ttls.get((name, ip), 3600) for ip in ips}
        answers: list[bytes] = []
        if zone is None:
            rcode, aa = 5, 0  # REFUSED: this fake does no recursion
        else:
            rcode = 0 if (ips or name == zone) else 3
            aa = 1
            for ip in sorted(ips):
                v6 = ":" in ip
                if qtype in ((28,) if v6 else (1,)) or qtype == 255:
                    rdata = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, ip)
                    answers.append(
                        struct.pack(">HHHIH", 0xC00C, 28 if v6 else 1, 1, ttl[ip], len(rdata)) + rdata
                    )
        out_flags = 0x8000 | (flags & 0x7900) | (aa << 10) | rcode
        return struct.pack(">HHHHHH", tid, out_flags, 1, len(answers), 0, 0) + question + b"".join(answers)


def technitium_http(t: Technitium) -> Handler:
    def handle(req: Request) -> Reply:
        if req.path.startswith("/api/"):
            return json_reply(200, t.handle(req.path, req.form()))
        page = "<!doctype html><title>Technitium DNS Server</title><p>agent-os fake of the web console"
        return text_reply(200, page, "text/html; charset=utf-8")

    return handle


def serve_dns(t: Technitium, port: int) -> None:
    class Udp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            out = t.dns_answer(data)
            if out is not None:
                sock.sendto(out, self.client_address)

    class Tcp(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while True:
                head = self.rfile.read(2)
                if len(head) < 2:
                    return
                out = t.dns_answer(self.rfile.read(struct.unpack(">H", head)[0]))
                if out is None:
                    return
                self.wfile.write(struct.pack(">H", len(out)) + out)

    for cls, handler in ((socketserver.ThreadingUDPServer, Udp), (socketserver.ThreadingTCPServer, Tcp)):
        try:
            cls.allow_reuse_address = True
            srv = cls(("0.0.0.0", port), handler)
        except OSError as e:  # e.g. port 53 without NET_BIND_SERVICE: the web service still runs
            log("technitium", f"DNS {cls.__name__} on port {port}: {e}")
            continue
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()


def technitium_main(argv: list[str]) -> int:
    config = Path(argv[0] if argv else "/etc/dns")
    env = os.environ
    store = Store(config / "agent-os-fake.json")
    domain = env.get("DNS_SERVER_DOMAIN") or socket.gethostname()
    t = Technitium(domain=domain)
    doc = store.load()
    if doc is not None:
        t.restore(doc)
        log("technitium", f"config loaded from {config} (the admin password file is not read again)")
    else:
        if env.get("DNS_SERVER_ADMIN_PASSWORD_FILE"):
            t.password = read_secret_file(env["DNS_SERVER_ADMIN_PASSWORD_FILE"])
        elif env.get("DNS_SERVER_ADMIN_PASSWORD"):
            t.password = env["DNS_SERVER_ADMIN_PASSWORD"]
        store.save(t.state())
        log("technitium", f"first start: config created in {config}")
    t.on_change = lambda: store.save(t.state())
    serve(int(env.get("DNS_SERVER_WEB_SERVICE_HTTP_PORT") or 5380), technitium_http(t))
    serve_dns(t, 53)
    log("technitium", f"web service on :5380, DNS on :53 (domain {domain})")
    wait_forever()
    return 0


# --- OAuth 2.0 client (Grafana's generic OAuth, Portainer's OAuth) ----------------------------


class OAuthError(Exception):
    pass


def http_json(method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> Any:
    req = urllib.request.Request(url, body, dict(headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise OAuthError(
            f"{method} {url}: HTTP {e.code}: {e.read()[:300].decode(errors='replace')}"
        ) from None
    except (OSError, ValueError) as e:
        raise OAuthError(f"{method} {url}: {e}") from None


def oauth_exchange(
    token_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str, verifier: str = ""
) -> dict[str, Any]:
    """The authorization-code grant (client secret in the POST body)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if verifier:
        form["code_verifier"] = verifier
    body = urllib.parse.urlencode(form).encode()
    out = http_json("POST", token_url, {"Content-Type": "application/x-www-form-urlencoded"}, body)
    if not isinstance(out, dict) or not out.get("access_token"):
        raise OAuthError(f"token endpoint answered no access_token: {str(out)[:200]}")
    return out


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (it came straight from the token endpoint)."""
    try:
        payload = token.split(".")[1]
        doc = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


# --- Portainer (server and agent) -----------------------------------------------------------

AGENT_SIGNATURE_HEADER = "X-PortainerAgent-Signature"
AGENT_SIGNED = b"agent-os fake: portainer server to agent"
MIN_PASSWORD = 12  # Portainer's default RequiredPasswordLength


def agent_signature(secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), AGENT_SIGNED, hashlib.sha256).digest()).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.socket_path)
        self.sock = s


def docker_call(
    sock: str, method: str, path: str, body: bytes = b"", ctype: str = ""
) -> tuple[int, str, bytes]:
    conn = UnixConnection(sock)
    try:
        headers = {"Host": "docker", **({"Content-Type": ctype} if ctype else {})}
        conn.request(method, path, body or None, headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type") or "application/json", r.read()
    finally:
        conn.close()


PT_ERR_TOKEN_MISSING = {"message": "Unauthorized", "details": "A valid authorization token is missing"}
PT_ERR_TOKEN_INVALID = {"message": "Invalid JWT token", "details": "Unauthorized"}
PT_ERR_ADMIN = {"message": "Access denied to resource", "details": "Unauthorized"}


class Portainer:
    """Portainer CE 2.33's API for what portainerctl.py, the readiness gate and an SSO login
    call: /api/system/status, /api/auth (HS256 JWT; 422 on a wrong password), users/me and
    passwd (403 wrong current, 400 weak, revokes earlier tokens), settings (OAuth),
    /api/auth/oauth/validate, endpoints (the -H agent, created at the first start) and the
    Docker API through the agent (/api/endpoints/{id}/docker/...)."""

    def __init__(self, store: Store, host: str, tls_skip_verify: bool, agent_secret: str) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.agent_secret = agent_secret
        self.tls_skip_verify = tls_skip_verify
        doc = store.load() or {}
        self.instance_id: str = doc.get("instance_id") or str(uuid.uuid4())
        self.jwt_secret: str = doc.get("jwt_secret") or secrets.token_hex(32)
        self.users: list[dict[str, Any]] = doc.get("users", [])
        self.settings: dict[str, Any] = doc.get("settings") or {
            "AuthenticationMethod": 1,
            "OAuthSettings": {},
            "InternalAuthSettings": {"RequiredPasswordLength": MIN_PASSWORD},
            "EnableTelemetry": False,
        }
        self.endpoints: list[dict[str, Any]] = doc.get("endpoints", [])
        if host and not self.endpoints:
            self.endpoints.append(
                {
                    "Id": 1,
                    "Name": "primary",
                    "Type": 2,
                    "URL": host,
                    "GroupId": 1,
                    "PublicURL": "",
                    "TLSConfig": {"TLS": True, "TLSSkipVerify": tls_skip_verify},
                    "Status": 1,
                    "TagIds": [],
                }
            )
        self.save()

    def save(self) -> None:
        with self.lock:
            self.store.save(
                {
                    "instance_id": self.instance_id,
                    "jwt_secret": self.jwt_secret,
                    "users": self.users,
                    "settings": self.settings,
                    "endpoints": self.endpoints,
                }
            )

    def create_admin(self, username: str, password: str) -> dict[str, Any]:
        salt = secrets.token_hex(8)
        user = {
            "Id": 1,
            "Username": username,
            "Role": 1,
            "salt": salt,
            "hash": pbkdf2(password, salt),
            "TokenIssueAt": 0.0,
        }
        with self.lock:
            self.users.append(user)
            self.save()
        return user

    @staticmethod
    def public_user(u: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Id": u["Id"],
            "Username": u["Username"],
            "Role": u["Role"],
            "TokenIssueAt": int(u["TokenIssueAt"]),
        }

    def issue(self, user: Mapping[str, Any]) -> str:
        now = time.time()
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "id": user["Id"],
            "username": user["Username"],
            "role": user["Role"],
            "scope": "default",
            "forceChangePassword": False,
            "exp": int(now) + 8 * 3600,
            "iat": now,
            "jti": uuid.uuid4().hex,
        }
        body = b64url(json.dumps(claims).encode())
        sig = b64url(hmac.new(self.jwt_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}"

    def authenticated(self, req: Request) -> dict[str, Any] | Reply:
        token = (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not token:
            return json_reply(401, PT_ERR_TOKEN_MISSING)
        parts = token.split(".")
        if len(parts) != 3:
            return json_reply(401, PT_ERR_TOKEN_INVALID)
        want = b64url(
            hmac.new(self.jwt_secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        )
        claims = jwt_claims(token)
        if not hmac.compare_digest(want, parts[2]) or float(claims.get("exp", 0)) < time.time():
            return json_reply(401, PT_ERR_TOKEN_INVALID)
        user = next((u for u in self.users if u["Id"] == claims.get("id")), None)
        if user is None or float(claims.get("iat", 0)) < float(user["TokenIssueAt"]):
            return json_reply(401, PT_ERR_TOKEN_INVALID)
        return user

    def handle(self, req: Request) -> Reply:
        p, m = req.path, req.method
        if not p.startswith("/api/"):
            return text_reply(200, "<!doctype html><title>Portainer</title><p>agent-os fake", "text/html")
        if p in ("/api/system/status", "/api/status"):
            return json_reply(200, {"Version": PORTAINER_VERSION, "InstanceID": self.instance_id})
        if p == "/api/settings/public" and m == "GET":
            return json_reply(200, self.public_settings())
        if p == "/api/users/admin/check" and m == "GET":
            return (
                Reply(204)
                if self.users
                else json_reply(
                    404,
                    {
                        "message": "No administrator account found inside the database",
                        "details": "Object not found inside the database",
                    },
                )
            )
        if p == "/api/users/admin/init" and m == "POST":
            return self.admin_init(req)
        if p == "/api/auth" and m == "POST":
            return self.login(req)
        if p == "/api/auth/oauth/validate" and m == "POST":
            return self.oauth_validate(req)
        user = self.authenticated(req)
        if isinstance(user, Reply):
            return user
        return self.authorized(req, user)

    def authorized(self, req: Request, user: dict[str, Any]) -> Reply:
        p, m = req.path, req.method
        admin = user["Role"] == 1
        if p == "/api/users/me" and m == "GET":
            return json_reply(200, self.public_user(user))
        if p == "/api/users" and m == "GET":
            return json_reply(
                200, [self.public_user(u) for u in self.users] if admin else [self.public_user(user)]
            )
        found = re.fullmatch(r"/api/users/(\d+)/passwd", p)
        if found and m == "PUT":
            return self.change_password(req, user, int(found.group(1)))
        if p == "/api/settings":
            if not admin:
                return json_reply(403, PT_ERR_ADMIN)
            if m == "GET":
                return json_reply(200, self.visible_settings())
            if m == "PUT":
                return self.update_settings(req)
        if p == "/api/endpoints" and m == "GET":
            return json_reply(200, [self.endpoint_view(e) for e in self.endpoints])
        found = re.fullmatch(r"/api/endpoints/(\d+)(/docker(/.*)?)?", p)
        if found:
            e = next((e for e in self.endpoints if e["Id"] == int(found.group(1))), None)
            if e is None:
                return json_reply(
                    404,
                    {
                        "message": "Unable to find an environment with the specified identifier inside the database",
                        "details": "Object not found inside the database",
                    },
                )
            if found.group(2) is None:
                return json_reply(200, self.endpoint_view(e))
            if not admin:
                return json_reply(403, PT_ERR_ADMIN)
            return self.docker_proxy(req, e, found.group(3) or "/")
        if p == "/api/stacks" and m == "GET":
            return json_reply(200, [])
        return json_reply(
            404, {"message": f"{m} {p} is not served by the agent-os Portainer fake", "details": "Not found"}
        )

    def login(self, req: Request) -> Reply:
        try:
            body = req.json()
            username, password = str(body["Username"]), str(body["Password"])
        except (ValueError, KeyError, TypeError):
            return json_reply(400, {"message": "Invalid request payload", "details": "Invalid username"})
        user = next((u for u in self.users if u["Username"] == username), None)
        if user is None or not hmac.compare_digest(user["hash"], pbkdf2(password, user["salt"])):
            return json_reply(422, {"message": "Invalid credentials", "details": "Unauthorized"})
        if self.settings.get("AuthenticationMethod") == 3 and user["Role"] != 1:
            return json_reply(
                403,
                {
                    "message": "Only initial admin is allowed to login without oauth",
                    "details": "Unauthorized",
                },
            )
        return json_reply(200, {"jwt": self.issue(user)})

    def admin_init(self, req: Request) -> Reply:
        if self.users:
            return json_reply(
                409,
                {
                    "message": "Unable to create administrator user",
                    "details": "An administrator user already exists",
                },
            )
        body = req.json() or {}
        password = str(body.get("Password") or "")
        if len(password) < MIN_PASSWORD:
            return json_reply(
                400,
                {
                    "message": "Password does not meet the minimum strength requirements",
                    "details": "Invalid request payload",
                },
            )
        return json_reply(
            200, self.public_user(self.create_admin(str(body.get("Username") or "admin"), password))
        )

    def change_password(self, req: Request, user: dict[str, Any], target: int) -> Reply:
        if target != user["Id"] and user["Role"] != 1:
            return json_reply(403, {"message": "Permission denied to update user", "details": "Unauthorized"})
        other = next((u for u in self.users if u["Id"] == target), None)
        if other is None:
            return json_reply(
                404,
                {
                    "message": "Unable to find a user with the specified identifier inside the database",
                    "details": "Object not found inside the database",
                },
            )
        body = req.json() or {}
        if not hmac.compare_digest(other["hash"], pbkdf2(str(body.get("Password") or ""), other["salt"])):
            return json_reply(
                403,
                {"message": "Current password doesn't match", "details": "Current password doesn't match"},
            )
        new = str(body.get("NewPassword") or "")
        if len(new) < int(self.settings["InternalAuthSettings"]["RequiredPasswordLength"]):
            return json_reply(
                400,
                {
                    "message": "Password does not meet the minimum strength requirements",
                    "details": "Invalid request payload",
                },
            )
        with self.lock:
            other["salt"] = secrets.token_hex(8)
            other["hash"] = pbkdf2(new, other["salt"])
            other["TokenIssueAt"] = time.time()
            self.save()
        return Reply(204)

    def visible_settings(self) -> dict[str, Any]:
        out = json.loads(json.dumps(self.settings))
        out.get("OAuthSettings", {}).pop("ClientSecret", None)
        return out

    def update_settings(self, req: Request) -> Reply:
        body = req.json()
        if not isinstance(body, dict):
            return json_reply(400, {"message": "Invalid request payload", "details": "bad JSON"})
        method = body.get("AuthenticationMethod")
        if method is not None and method not in (1, 2, 3):
            return json_reply(
                400,
                {
                    "message": "Invalid request payload",
                    "details": "Invalid authentication method value. Value must be one of: 1 (internal), 2 (LDAP/AD) or 3 (OAuth)",
                },
            )
        with self.lock:
            for k, v in body.items():
                if k == "OAuthSettings" and isinstance(v, dict):
                    old = self.settings.get("OAuthSettings") or {}
                    if not v.get("ClientSecret"):
                        v = {**v, "ClientSecret": old.get("ClientSecret", "")}
                    self.settings[k] = v
                else:
                    self.settings[k] = v
            self.save()
        return json_reply(200, self.visible_settings())

    def public_settings(self) -> dict[str, Any]:
        o = self.settings.get("OAuthSettings") or {}
        login = ""
        if o.get("AuthorizationURI"):
            login = (
                o["AuthorizationURI"]
                + "?"
                + urllib.parse.urlencode(
                    {
                        "response_type": "code",
                        "client_id": o.get("ClientID", ""),
                        "redirect_uri": o.get("RedirectURI", ""),
                        "scope": o.get("Scopes", ""),
                    }
                )
            )
        return {
            "AuthenticationMethod": self.settings.get("AuthenticationMethod", 1),
            "OAuthLoginURI": login,
            "OAuthLogoutURI": o.get("LogoutURI", ""),
            "OAuthHideInternalAuth": bool(o.get("SSO")),
            "RequiredPasswordLength": self.settings["InternalAuthSettings"]["RequiredPasswordLength"],
        }

    def oauth_validate(self, req: Request) -> Reply:
        o = self.settings.get("OAuthSettings") or {}
        if self.settings.get("AuthenticationMethod") != 3:
            return json_reply(
                403, {"message": "OAuth authentication is not enabled", "details": "Unauthorized"}
            )
        code = str((req.json() or {}).get("code") or "")
        try:
            tokens = oauth_exchange(
                o["AccessTokenURI"], o["ClientID"], o.get("ClientSecret", ""), code, o.get("RedirectURI", "")
            )
            info = http_json("GET", o["ResourceURI"], {"Authorization": f"Bearer {tokens['access_token']}"})
        except (OAuthError, KeyError) as e:
            return json_reply(422, {"message": "Unable to authenticate through OAuth", "details": str(e)})
        name = str((info or {}).get(o.get("UserIdentifier") or "preferred_username") or "")
        if not name:
            return json_reply(
                422, {"message": "Unable to authenticate through OAuth", "details": "no user identifier"}
            )
        with self.lock:
            user = next((u for u in self.users if u["Username"] == name), None)
            if user is None:
                if not o.get("OAuthAutoCreateUsers"):
                    return json_reply(
                        422,
                        {
                            "message": "Account not created beforehand in Portainer and automatic user provisioning not enabled",
                            "details": "Unauthorized",
                        },
                    )
                user = {
                    "Id": max((u["Id"] for u in self.users), default=0) + 1,
                    "Username": name,
                    "Role": 2,
                    "salt": "",
                    "hash": "",
                    "TokenIssueAt": 0.0,
                }
                self.users.append(user)
                self.save()
        return json_reply(200, {"jwt": self.issue(user)})

    def agent_conn(self, e: Mapping[str, Any]) -> http.client.HTTPSConnection:
        u = urllib.parse.urlsplit(str(e["URL"]))
        ctx = ssl.create_default_context()
        if self.tls_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(u.hostname or "", u.port or 9001, timeout=30, context=ctx)

    def agent_request(
        self, e: Mapping[str, Any], method: str, path: str, body: bytes, ctype: str
    ) -> tuple[int, str, bytes]:
        conn = self.agent_conn(e)
        try:
            headers = {
                AGENT_SIGNATURE_HEADER: agent_signature(self.agent_secret),
                "X-PortainerAgent-PublicKey": "agent-os-fake",
            }
            if ctype:
                headers["Content-Type"] = ctype
            conn.request(method, path, body or None, headers)
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type") or "application/json", r.read()
        finally:
            conn.close()

    def endpoint_view(self, e: dict[str, Any]) -> dict[str, Any]:
        try:
            status, _, _ = self.agent_request(e, "GET", "/ping", b"", "")
            e["Status"] = 1 if status < 300 else 2
        except OSError:
            e["Status"] = 2
        return dict(e)

    def docker_proxy(self, req: Request, e: Mapping[str, Any], rest: str) -> Reply:
        query = urllib.parse.urlencode(req.query)
        try:
            status, ctype, body = self.agent_request(
                e,
                req.method,
                rest + (f"?{query}" if query else ""),
                req.body,
                req.headers.get("Content-Type") or "",
            )
        except OSError as err:
            return json_reply(
                502, {"message": "Unable to proxy the request via the Docker socket", "details": str(err)}
            )
        return Reply(status, body, ctype)


def portainer_main(argv: list[str]) -> int:
    if any(a in ("--version", "-v") for a in argv):
        print(PORTAINER_VERSION)
        return 0
    known = {
        "H",
        "host",
        "tlsskipverify",
        "admin-password-file",
        "admin-password",
        "bind",
        "bind-https",
        "data",
        "tunnel-port",
        "http-enabled",
        "http-disabled",
        "log-level",
        "help",
    }
    flags = go_flags(argv, known, "portainer")
    data = Path(flags.get("data", "/data"))
    host = flags.get("H") or flags.get("host") or ""
    secret = os.environ.get("AGENT_SECRET", "")
    pt = Portainer(Store(data / "agent-os-fake.json"), host, "tlsskipverify" in flags, secret)
    if not pt.users and flags.get("admin-password-file"):
        pt.create_admin("admin", Path(flags["admin-password-file"]).read_text().removesuffix("\n"))
        log("portainer", f"admin created from {flags['admin-password-file']}")
    elif pt.users:
        log("portainer", "an administrator exists: --admin-password-file is not read")
    bind = flags.get("bind", ":9000")
    serve(int(bind.rpartition(":")[2]), pt.handle)
    log("portainer", f"API on {bind}, environment {host or '(none)'}")
    wait_forever()
    return 0


def agent_main(argv: list[str]) -> int:
    del argv
    env = os.environ
    secret = env.get("AGENT_SECRET", "")
    sock = "/var/run/docker.sock"
    port = int(env.get("AGENT_PORT") or 9001)
    tmp = Path(tempfile.mkdtemp(prefix="agent-tls-"))
    # A fresh self-signed certificate at each start, as the real agent makes (crypto/tls.go).
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=portainer-agent",
            "-keyout",
            str(tmp / "key.pem"),
            "-out",
            str(tmp / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    want = agent_signature(secret) if secret else ""

    def handle(req: Request) -> Reply:
        if req.path == "/ping":
            return Reply(204, headers=[("Portainer-Agent", PORTAINER_VERSION)])
        got = req.headers.get(AGENT_SIGNATURE_HEADER) or ""
        if want and not hmac.compare_digest(got, want):
            return json_reply(403, {"message": "Unauthorized", "details": "Invalid signature"})
        query = urllib.parse.urlencode(req.query)
        status, ctype, body = docker_call(
            sock,
            req.method,
            req.path + (f"?{query}" if query else ""),
            req.body,
            req.headers.get("Content-Type") or "",
        )
        return Reply(status, body, ctype, [("Portainer-Agent", PORTAINER_VERSION)])

    serve(port, handle, tls=ctx)
    log(
        "agent",
        f"HTTPS on :{port} (cluster address {env.get('AGENT_CLUSTER_ADDR', '')}), secret mode: {bool(secret)}",
    )
    wait_forever()
    return 0


# --- Grafana --------------------------------------------------------------------------------


def gf_env_files(env: dict[str, str]) -> None:
    """GF_*__FILE: the variable without the suffix gets the file's content (Grafana's
    run.sh and its config loader both do this)."""
    for k in [k for k in env if k.startswith("GF_") and k.endswith("__FILE")]:
        env[k.removesuffix("__FILE")] = read_secret_file(env[k])


def gf_paths() -> tuple[Path, Path]:
    """(data dir, provisioning dir) from the image's GF_PATHS_* environment."""
    env = os.environ
    return Path(env.get("GF_PATHS_DATA", "/var/lib/grafana")), Path(
        env.get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
    )


def gf_db(data: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data / "grafana.db", check_same_thread=False, isolation_level=None)
    db.execute(
        "CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, login TEXT UNIQUE, email TEXT, name TEXT,"
        " password TEXT, salt TEXT, is_admin INTEGER, org_role TEXT, auth_module TEXT)"
    )
    return db


ROLE_TERM = re.compile(r"contains\(\((\w+) \|\| `\[\]`\), '([^']*)'\) && '([^']*)'")


def role_mapper(path: str) -> Callable[[Mapping[str, Any]], str]:
    """GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH, for the JMESPath form the program writes:
    `contains((claim || `[]`), 'x') && 'Role' || ... || ''` (first match wins). Any other
    expression stops the start: this fake has no general JMESPath."""
    found = ROLE_TERM.findall(path)
    rest = ROLE_TERM.sub("", path).replace("||", "").replace("''", "").strip()
    if rest:
        raise SystemExit(
            f"grafana-fake: role_attribute_path {path!r}: only contains(...) && 'Role' terms are supported"
        )

    def role(claims: Mapping[str, Any]) -> str:
        for claim, value, grafana_role in found:
            got = claims.get(claim) or []
            if isinstance(got, list) and value in got:
                return grafana_role
        return ""

    return role


class Grafana:
    """Grafana 12's HTTP API for what the program and a login call: /api/health, basic auth
    and /login sessions for the local admin (PBKDF2 in grafana.db, as Grafana), /api/user,
    provisioned datasources (+ their health checks and a GET proxy), /api/frontend/settings,
    and the generic OAuth login (PKCE, token exchange, userinfo, allowed groups, strict role
    mapping, sign-up)."""

    def __init__(
        self, env: Mapping[str, str], db: sqlite3.Connection, datasources: list[dict[str, Any]]
    ) -> None:
        self.env = env
        self.db = db
        self.lock = threading.Lock()
        self.datasources = datasources
        self.sessions: dict[str, int] = {}
        self.states: dict[str, str] = {}  # oauth state -> PKCE verifier
        self.counter = Counter()
        self.root_url = env.get("GF_SERVER_ROOT_URL") or "http://localhost:3000/"
        if not self.root_url.endswith("/"):
            self.root_url += "/"
        self.oauth = env.get("GF_AUTH_GENERIC_OAUTH_ENABLED") == "true"
        self.role = (
            role_mapper(env.get("GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH", "")) if self.oauth else None
        )

    def user_by(self, column: str, value: Any) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute(
                f"SELECT id, login, email, name, password, salt, is_admin, org_role, auth_module FROM user WHERE {column} = ?",
                (value,),
            ).fetchone()
        if row is None:
            return None
        keys = ("id", "login", "email", "name", "password", "salt", "is_admin", "org_role", "auth_module")
        return dict(zip(keys, row, strict=True))

    def check_password(self, login: str, password: str) -> dict[str, Any] | None:
        u = self.user_by("login", login)
        if (
            u is None
            or not u["password"]
            or not hmac.compare_digest(u["password"], pbkdf2(password, u["salt"]))
        ):
            return None
        return u

    def current(self, req: Request) -> dict[str, Any] | None:
        auth = req.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                login, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
            return self.check_password(login, pw)
        uid = self.sessions.get(req.cookie("grafana_session"))
        return self.user_by("id", uid) if uid is not None else None

    @staticmethod
    def unauthorized() -> Reply:
        return json_reply(
            401,
            {
                "extra": None,
                "message": "Unauthorized",
                "messageId": "auth.unauthorized",
                "statusCode": 401,
                "traceID": "",
            },
        )

    @staticmethod
    def user_view(u: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": u["id"],
            "uid": f"u{u['id']}",
            "login": u["login"],
            "email": u["email"],
            "name": u["name"],
            "isGrafanaAdmin": bool(u["is_admin"]),
            "orgId": 1,
            "role": u["org_role"],
            "authLabels": ["Generic OAuth"] if u["auth_module"] else [],
        }

    def handle(self, req: Request) -> Reply:
        p = req.path
        if p == "/api/health":
            return json_reply(200, {"database": "ok", "version": GRAFANA_VERSION, "commit": REVISION})
        if p == "/metrics":
            return text_reply(
                200, exposition("grafana", GRAFANA_VERSION, self.counter), "text/plain; version=0.0.4"
            )
        if p == "/api/frontend/settings":
            return json_reply(200, self.frontend_settings())
        if p == "/login" and req.method == "POST":
            return self.password_login(req)
        if p == "/login" and req.method == "GET":
            return text_reply(
                200, "<!doctype html><title>Grafana</title><p>agent-os fake login page", "text/html"
            )
        if p == "/login/generic_oauth":
            return self.oauth_login(req)
        if p == "/logout":
            self.sessions.pop(req.cookie("grafana_session"), None)
            return redirect("/login", ["grafana_session=; Path=/; Max-Age=0"])
        user = self.current(req)
        if user is None:
            return self.unauthorized() if p.startswith("/api/") else redirect("/login")
        if p == "/api/user":
            return json_reply(200, self.user_view(user))
        if not p.startswith("/api/"):
            return text_reply(200, "<!doctype html><title>Grafana</title><p>agent-os fake", "text/html")
        if user["org_role"] != "Admin" and not user["is_admin"]:
            return json_reply(
                403,
                {
                    "message": "You'll need additional permissions to perform this action.",
                    "accessErrorId": "ACE0000000001",
                    "status": "Forbidden",
                },
            )
        return self.admin_api(req)

    def admin_api(self, req: Request) -> Reply:
        p = req.path
        if p == "/api/users" or p == "/api/org/users":
            with self.lock:
                ids = [r[0] for r in self.db.execute("SELECT id FROM user ORDER BY id").fetchall()]
            users = [self.user_view(u) for u in (self.user_by("id", i) for i in ids) if u is not None]
            return json_reply(200, users)
        if p == "/api/datasources":
            return json_reply(200, self.datasources)
        found = re.fullmatch(r"/api/datasources/uid/([^/]+)(/health)?", p)
        if found:
            ds = next((d for d in self.datasources if d["uid"] == found.group(1)), None)
            if ds is None:
                return json_reply(404, {"message": "Data source not found"})
            return self.health(ds) if found.group(2) else json_reply(200, ds)
        found = re.fullmatch(r"/api/datasources/proxy/uid/([^/]+)(/.*)", p)
        if found and req.method == "GET":
            ds = next((d for d in self.datasources if d["uid"] == found.group(1)), None)
            if ds is None:
                return json_reply(404, {"message": "Data source not found"})
            url = (
                ds["url"].rstrip("/")
                + found.group(2)
                + (f"?{urllib.parse.urlencode(req.query)}" if req.query else "")
            )
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    return Reply(r.status, r.read(), r.headers.get("Content-Type") or "application/json")
            except urllib.error.HTTPError as e:
                return Reply(e.code, e.read(), e.headers.get("Content-Type") or "text/plain")
            except OSError as e:
                return json_reply(502, {"message": "Bad Gateway", "error": str(e)})
        return json_reply(404, {"message": "Not found"})

    HEALTH_PATHS: Mapping[str, tuple[str, str]] = {
        "prometheus": ("/api/v1/query?query=1%2B1", "Successfully queried the Prometheus API."),
        "loki": ("/loki/api/v1/labels", "Data source successfully connected."),
        "tempo": ("/api/echo", "Data source successfully connected."),
        "alertmanager": ("/api/v2/status", "Health check passed."),
    }

    def health(self, ds: Mapping[str, Any]) -> Reply:
        path, ok = self.HEALTH_PATHS.get(str(ds["type"]), ("/", "Data source is working"))
        try:
            with urllib.request.urlopen(str(ds["url"]).rstrip("/") + path, timeout=10) as r:
                r.read()
        except (OSError, ValueError) as e:
            return json_reply(400, {"status": "ERROR", "message": f"{ds['type']}: {e}"})
        return json_reply(200, {"status": "OK", "message": ok})

    def frontend_settings(self) -> dict[str, Any]:
        oauth = {
            "generic_oauth": {"name": self.env.get("GF_AUTH_GENERIC_OAUTH_NAME", "OAuth"), "icon": "signin"}
        }
        return {
            "appUrl": self.root_url,
            "appSubUrl": "",
            "disableLoginForm": self.env.get("GF_AUTH_DISABLE_LOGIN_FORM") == "true",
            "oauth": oauth if self.oauth else {},
            "buildInfo": {"version": GRAFANA_VERSION, "commit": REVISION, "edition": "Open Source"},
            "datasources": {d["name"]: {"type": d["type"], "uid": d["uid"]} for d in self.datasources},
        }

    def new_session(self, user_id: int) -> str:
        token = secrets.token_hex(16)
        self.sessions[token] = user_id
        return f"grafana_session={token}; Path=/; HttpOnly; SameSite=Lax"

    def password_login(self, req: Request) -> Reply:
        try:
            body = req.json()
            u = self.check_password(str(body["user"]), str(body["password"]))
        except (ValueError, KeyError, TypeError):
            u = None
        if u is None:
            return json_reply(
                401,
                {
                    "message": "Invalid username or password",
                    "messageId": "password-auth.failed",
                    "statusCode": 401,
                    "traceID": "",
                },
            )
        return json_reply(
            200, {"message": "Logged in", "redirectUrl": "/"}, [("Set-Cookie", self.new_session(u["id"]))]
        )

    def login_error(self, message: str) -> Reply:
        log("grafana", f"OAuth login refused: {message}")
        return redirect("/login", [f"grafana_login_error={urllib.parse.quote(message)}; Path=/; HttpOnly"])

    def oauth_login(self, req: Request) -> Reply:
        e = self.env
        if not self.oauth:
            return json_reply(404, {"message": "OAuth not enabled"})
        redirect_uri = f"{self.root_url}login/generic_oauth"
        if "error" in req.query:
            return self.login_error(req.query.get("error_description") or req.query["error"])
        code = req.query.get("code")
        if not code:
            state = secrets.token_urlsafe(24)
            verifier, challenge = pkce()
            self.states[state] = verifier
            params = {
                "response_type": "code",
                "client_id": e.get("GF_AUTH_GENERIC_OAUTH_CLIENT_ID", ""),
                "redirect_uri": redirect_uri,
                "scope": e.get("GF_AUTH_GENERIC_OAUTH_SCOPES", "openid"),
                "state": state,
                "access_type": "online",
            }
            if e.get("GF_AUTH_GENERIC_OAUTH_USE_PKCE") == "true":
                params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
            cookie = (
                f"oauth_state={hashlib.sha256(state.encode()).hexdigest()}; Path=/; HttpOnly; SameSite=Lax"
            )
            return redirect(
                e.get("GF_AUTH_GENERIC_OAUTH_AUTH_URL", "") + "?" + urllib.parse.urlencode(params), [cookie]
            )
        state = req.query.get("state", "")
        if (
            state not in self.states
            or req.cookie("oauth_state") != hashlib.sha256(state.encode()).hexdigest()
        ):
            return self.login_error("invalid state")
        verifier = self.states.pop(state)
        try:
            tokens = oauth_exchange(
                e.get("GF_AUTH_GENERIC_OAUTH_TOKEN_URL", ""),
                e.get("GF_AUTH_GENERIC_OAUTH_CLIENT_ID", ""),
                e.get("GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET", ""),
                code,
                redirect_uri,
                verifier if e.get("GF_AUTH_GENERIC_OAUTH_USE_PKCE") == "true" else "",
            )
            info = http_json(
                "GET",
                e.get("GF_AUTH_GENERIC_OAUTH_API_URL", ""),
                {"Authorization": f"Bearer {tokens['access_token']}"},
            )
        except OAuthError as err:
            return self.login_error(f"login provider denied login request: {err}")
        return self.oauth_user(
            jwt_claims(str(tokens.get("id_token") or "")), info if isinstance(info, dict) else {}
        )

    def oauth_user(self, id_token: Mapping[str, Any], info: Mapping[str, Any]) -> Reply:
        e = self.env
        groups_attr = e.get("GF_AUTH_GENERIC_OAUTH_GROUPS_ATTRIBUTE_PATH", "")
        groups = list(id_token.get(groups_attr) or info.get(groups_attr) or []) if groups_attr else []
        allowed = [g for g in re.split(r"[ ,]+", e.get("GF_AUTH_GENERIC_OAUTH_ALLOWED_GROUPS", "")) if g]
        if allowed and not set(allowed) & set(groups):
            return self.login_error("user not a member of one of the required groups")
        role = (self.role(id_token) or self.role(info)) if self.role else ""
        if not role and e.get("GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT") == "true":
            return self.login_error("idP did not return a role attribute, but role_attribute_strict is set")
        claims = {**info, **id_token}
        login = str(claims.get("preferred_username") or claims.get("login") or claims.get("email") or "")
        if not login:
            return self.login_error("no login in the user info")
        with self.lock:
            u = self.db.execute("SELECT id FROM user WHERE login = ?", (login,)).fetchone()
            if u is None:
                if e.get("GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP", "true") != "true":
                    return self.login_error("sign up is disabled")
                cur = self.db.execute(
                    "INSERT INTO user (login, email, name, password, salt, is_admin, org_role, auth_module) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        login,
                        str(claims.get("email") or ""),
                        str(claims.get("name") or login),
                        "",
                        "",
                        0,
                        role or "None",
                        "oauth_generic_oauth",
                    ),
                )
                uid = int(cur.lastrowid or 0)
            else:
                uid = int(u[0])
                if e.get("GF_AUTH_GENERIC_OAUTH_SKIP_ORG_ROLE_SYNC") != "true":
                    self.db.execute("UPDATE user SET org_role = ? WHERE id = ?", (role or "None", uid))
        return redirect(self.root_url, [self.new_session(uid)])


def grafana_provisioned(prov: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    files = sorted(
        [*prov.joinpath("datasources").glob("*.yaml"), *prov.joinpath("datasources").glob("*.yml")]
    )
    for i, f in enumerate(files):
        doc = yaml.safe_load(f.read_text()) or {}
        for n, d in enumerate(doc.get("datasources") or []):
            out.append(
                {
                    "id": i * 100 + n + 1,
                    "uid": d.get("uid") or d["name"],
                    "orgId": 1,
                    "name": d["name"],
                    "type": d["type"],
                    "access": d.get("access", "proxy"),
                    "url": d.get("url", ""),
                    "isDefault": bool(d.get("isDefault")),
                    "jsonData": d.get("jsonData") or {},
                    "readOnly": True,
                }
            )
    return out


def grafana_server() -> int:
    env = dict(os.environ)
    gf_env_files(env)
    data, prov = gf_paths()
    first = not (data / "grafana.db").exists() or (data / "grafana.db").stat().st_size == 0
    db = gf_db(data)
    if first:  # the admin is made from the environment only when the database is created
        salt = secrets.token_hex(5)
        db.execute(
            "INSERT INTO user (id, login, email, name, password, salt, is_admin, org_role, auth_module) VALUES (1,?,?,?,?,?,1,'Admin','')",
            (
                env.get("GF_SECURITY_ADMIN_USER", "admin"),
                "admin@localhost",
                "",
                pbkdf2(env.get("GF_SECURITY_ADMIN_PASSWORD", "admin"), salt),
                salt,
            ),
        )
        log("grafana", f"database created in {data}; admin from GF_SECURITY_ADMIN_*")
    g = Grafana(env, db, grafana_provisioned(prov))
    port = int(env.get("GF_SERVER_HTTP_PORT") or 3000)
    serve(port, g.handle, g.counter)
    log("grafana", f"HTTP on :{port}, {len(g.datasources)} provisioned datasources, OAuth {g.oauth}")
    wait_forever()
    return 0


def grafana_main(argv: list[str]) -> int:
    """`grafana server ...`, `grafana cli [--homepath H] [--config C] admin
    reset-admin-password (--password-from-stdin | PASSWORD)`, `grafana --version`."""
    if not argv or argv[0] in ("--version", "-v"):
        print(f"grafana version {GRAFANA_VERSION} (commit: {REVISION})")
        return 0
    if argv[0] == "server":
        return grafana_server()
    if argv[0] != "cli":
        print(f"grafana: unknown command {argv[0]!r}", file=sys.stderr)
        return 1
    rest = list(argv[1:])
    words: list[str] = []
    from_stdin = False
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--homepath", "--config", "--configOverrides", "--pluginsDir", "--repo", "--pluginUrl"):
            i += 2
            continue
        if a.startswith(("--homepath=", "--config=")):
            i += 1
            continue
        if a == "--password-from-stdin":
            from_stdin = True
        else:
            words.append(a)
        i += 1
    if words[:2] != ["admin", "reset-admin-password"]:
        print(
            f"grafana cli: the agent-os fake has only `admin reset-admin-password`, not {words}",
            file=sys.stderr,
        )
        return 1
    password = sys.stdin.readline().rstrip("\r\n") if from_stdin else (words[2] if len(words) > 2 else "")
    if not password:
        print("Error: ✗ new password is too short", file=sys.stderr)
        return 1
    data, _ = gf_paths()
    if not (data / "grafana.db").exists() or (data / "grafana.db").stat().st_size == 0:
        print("Error: ✗ could not read user from database. Error: user not found", file=sys.stderr)
        return 1
    db = gf_db(data)
    row = db.execute("SELECT is_admin FROM user WHERE id = 1").fetchone()
    if row is None or not row[0]:
        print("Error: ✗ could not read user from database. Error: user not found", file=sys.stderr)
        return 1
    salt = secrets.token_hex(5)
    db.execute("UPDATE user SET password = ?, salt = ? WHERE id = 1", (pbkdf2(password, salt), salt))
    db.close()
    print("Admin password changed successfully ✔")
    return 0


def run_sh_main(argv: list[str]) -> int:
    """The image's /run.sh: GF_*__FILE into the environment, then `grafana server`."""
    del argv
    env = dict(os.environ)
    gf_env_files(env)
    os.environ.update(env)
    return grafana_server()


# --- Loki and Tempo -------------------------------------------------------------------------


def load_config(flags: Mapping[str, str], product: str) -> dict[str, Any]:
    path = flags.get("config.file")
    if not path:
        return {}
    try:
        text = Path(path).read_text()
        if flags.get("config.expand-env") == "true":
            text = os.path.expandvars(text)
        doc = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as e:
        print(f"failed parsing config: {path}: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if not isinstance(doc, dict):
        print(f"failed parsing config: {path}: not a mapping", file=sys.stderr)
        raise SystemExit(1)
    log(product, f"config {path} loaded")
    return doc


def writable_dir(path: Path, product: str) -> Path:
    """mkdir -p as the process's user; a permission error stops the start, as the real one's."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".agent-os-fake-write-check"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        print(f"error initialising module: {product} store: mkdir {path}: {e.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    return path


def pb_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Protobuf wire format: (field number, wire type, value) with value an int or bytes."""
    i = 0
    while i < len(buf):
        key, i = pb_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = pb_varint(buf, i)
            yield num, wt, v
        elif wt == 1:
            yield num, wt, struct.unpack("<Q", buf[i : i + 8])[0]
            i += 8
        elif wt == 2:
            n, i = pb_varint(buf, i)
            yield num, wt, buf[i : i + n]
            i += n
        elif wt == 5:
            yield num, wt, struct.unpack("<I", buf[i : i + 4])[0]
            i += 4
        else:
            raise ValueError(f"protobuf wire type {wt} not supported")


def pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = out = 0
    while True:
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7


def snappy_decompress(buf: bytes) -> bytes:
    """Snappy block format (what Loki's protobuf push carries)."""
    n, i = pb_varint(buf, 0)
    out = bytearray()
    while i < len(buf):
        tag = buf[i]
        i += 1
        kind = tag & 3
        if kind == 0:
            length = tag >> 2
            if length >= 60:
                extra = length - 59
                length = int.from_bytes(buf[i : i + extra], "little")
                i += extra
            length += 1
            out += buf[i : i + length]
            i += length
            continue
        if kind == 1:
            length = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | buf[i]
            i += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[i : i + 2], "little")
            i += 2
        else:
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[i : i + 4], "little")
            i += 4
        for _ in range(length):
            out.append(out[-offset])
    if len(out) != n:
        raise ValueError("snappy: length mismatch")
    return bytes(out)


LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """`{a="b", c=~"re"}` into (name, op, value) matchers."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"parse error: unexpected {text[:20]!r}, expecting {{")
    body, out, pos = text[1:-1], [], 0
    while pos < len(body.rstrip()):
        m = LABEL.match(body, pos)
        if m is None:
            raise ValueError(f"parse error at {body[pos : pos + 20]!r}")
        out.append((m.group(1), m.group(2), json.loads(f'"{m.group(3)}"')))
        pos = m.end()
    return out


def labels_match(labels: Mapping[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        got = labels.get(name, "")
        ok = {
            "=": got == value,
            "!=": got != value,
            "=~": re.fullmatch(value, got) is not None,
            "!~": re.fullmatch(value, got) is None,
        }[op]
        if not ok:
            return False
    return True


def parse_labels(text: str) -> dict[str, str]:
    return {n: v for n, _, v in parse_selector(text)}


class Loki:
    """Loki 3.5's HTTP API: /ready, push (JSON, and protobuf + snappy), labels, label
    values, query and query_range over stream selectors with line filters, buildinfo;
    entries appended to the volume and read back at start."""

    def __init__(self, data: Path) -> None:
        self.lock = threading.Lock()
        self.counter = Counter()
        self.path = data / "agent-os-fake-entries.jsonl"
        self.entries: list[tuple[dict[str, str], int, str]] = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                labels, ts, text = json.loads(line)
                self.entries.append((labels, int(ts), text))
        self.received = 0

    def add(self, batch: list[tuple[dict[str, str], int, str]]) -> None:
        with self.lock:
            self.entries += batch
            self.received += len(batch)
            with self.path.open("a") as f:
                for e in batch:
                    f.write(json.dumps(list(e)) + "\n")

    def push(self, req: Request) -> Reply:
        ctype = (req.headers.get("Content-Type") or "").split(";")[0]
        batch: list[tuple[dict[str, str], int, str]] = []
        try:
            if ctype == "application/json":
                for s in req.json().get("streams") or []:
                    labels = {str(k): str(v) for k, v in (s.get("stream") or {}).items()}
                    batch += [(labels, int(v[0]), str(v[1])) for v in s.get("values") or []]
            else:  # application/x-protobuf, snappy: logproto.PushRequest
                for num, _, stream in pb_fields(snappy_decompress(req.body)):
                    if num != 1:
                        continue
                    fields = list(pb_fields(stream))
                    labels = next((parse_labels(v.decode()) for n, _, v in fields if n == 1), {})
                    for n, _, entry in fields:
                        if n == 2:
                            ef = {k: v for k, _, v in pb_fields(entry)}
                            ts = {k: v for k, _, v in pb_fields(ef.get(1, b""))}
                            batch.append(
                                (
                                    labels,
                                    ts.get(1, 0) * 10**9 + ts.get(2, 0),
                                    ef.get(2, b"").decode(errors="replace"),
                                )
                            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            return text_reply(400, f"error parsing push request: {e}\n")
        if any(not labels for labels, _, _ in batch):
            return text_reply(400, "error at least one label pair is required per stream\n")
        self.add(batch)
        return Reply(204)

    def select(self, query: str, start: int, end: int, limit: int, forward: bool) -> list[dict[str, Any]]:
        sel, _, filters = query.partition("}")
        matchers = parse_selector(sel + "}")
        checks: list[tuple[str, str]] = []
        for op, text in re.findall(r'(\|=|!=|\|~|!~)\s*"((?:[^"\\]|\\.)*)"', filters):
            checks.append((op, json.loads(f'"{text}"')))
        if re.sub(r'(\|=|!=|\|~|!~)\s*"((?:[^"\\]|\\.)*)"', "", filters).strip():
            raise ValueError("the agent-os Loki fake supports stream selectors with line filters only")
        with self.lock:
            hits = [e for e in self.entries if start <= e[1] <= end and labels_match(e[0], matchers)]
        hits = [
            e
            for e in hits
            if all(
                (op == "|=" and t in e[2])
                or (op == "!=" and t not in e[2])
                or (op == "|~" and re.search(t, e[2]))
                or (op == "!~" and not re.search(t, e[2]))
                for op, t in checks
            )
        ]
        hits.sort(key=lambda e: e[1], reverse=not forward)
        streams: dict[str, dict[str, Any]] = {}
        for labels, ts, text in hits[:limit]:
            key = json.dumps(labels, sort_keys=True)
            streams.setdefault(key, {"stream": labels, "values": []})["values"].append([str(ts), text])
        return list(streams.values())

    def handle(self, req: Request) -> Reply:
        p = req.path
        if p == "/ready":
            return text_reply(200, "ready\n")
        if p == "/metrics":
            extra = (
                "# HELP loki_distributor_lines_received_total The total number of lines received.\n"
                "# TYPE loki_distributor_lines_received_total counter\n"
                f'loki_distributor_lines_received_total{{tenant="fake"}} {self.received}\n'
            )
            return text_reply(
                200, exposition("loki", LOKI_VERSION, self.counter, extra), "text/plain; version=0.0.4"
            )
        if p in ("/loki/api/v1/push", "/api/prom/push") and req.method == "POST":
            return self.push(req)
        if p == "/loki/api/v1/status/buildinfo":
            return json_reply(
                200,
                {
                    "version": LOKI_VERSION,
                    "revision": REVISION,
                    "branch": "",
                    "buildUser": "",
                    "buildDate": "",
                    "goVersion": "",
                },
            )
        if p == "/loki/api/v1/labels":
            with self.lock:
                names = sorted({k for labels, _, _ in self.entries for k in labels})
            return json_reply(200, {"status": "success", "data": names})
        found = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", p)
        if found:
            with self.lock:
                values = sorted(
                    {labels[found.group(1)] for labels, _, _ in self.entries if found.group(1) in labels}
                )
            return json_reply(200, {"status": "success", "data": values})
        if p in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
            q = req.form()
            now = time.time_ns()
            try:
                end = int(q.get("end") or q.get("time") or now)
                start = int(q.get("start") or (end - 3600 * 10**9 if p.endswith("range") else 0))
                result = self.select(
                    q.get("query", ""),
                    start,
                    end,
                    int(q.get("limit") or 100),
                    q.get("direction") == "forward",
                )
            except (ValueError, re.error) as e:
                return text_reply(400, f"{e}\n")
            return json_reply(
                200, {"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}
            )
        return text_reply(404, "404 page not found\n")


def hexid(b: Any) -> str:
    return b.hex() if isinstance(b, bytes) else ""


class Tempo:
    """Tempo 2.9: /ready, /api/echo, buildinfo, OTLP/HTTP traces (protobuf or JSON, gzip)
    on the receiver port, /api/traces/{id} and /api/search over what was received; spans
    appended to the WAL directory and read back at start."""

    def __init__(self, wal: Path) -> None:
        self.lock = threading.Lock()
        self.counter = Counter()
        self.path = wal / "agent-os-fake-spans.jsonl"
        self.spans: list[dict[str, Any]] = []
        if self.path.exists():
            self.spans = [json.loads(line) for line in self.path.read_text().splitlines()]

    def ingest(self, spans: list[dict[str, Any]]) -> None:
        with self.lock:
            self.spans += spans
            with self.path.open("a") as f:
                for s in spans:
                    f.write(json.dumps(s) + "\n")

    @staticmethod
    def from_protobuf(body: bytes) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for n, _, rs in pb_fields(body):  # ExportTraceServiceRequest.resource_spans
            if n != 1:
                continue
            service = ""
            for rn, _, rv in pb_fields(rs):
                if rn == 1:  # Resource.attributes (KeyValue: key, AnyValue{string_value=1})
                    for an, _, kv in pb_fields(rv):
                        if an == 1:
                            kvf = {k: v for k, _, v in pb_fields(kv)}
                            if kvf.get(1) == b"service.name":
                                service = {k: v for k, _, v in pb_fields(kvf.get(2, b""))}.get(
                                    1, b""
                                ).decode()
            for rn, _, ss in pb_fields(rs):
                if rn != 2:  # ScopeSpans
                    continue
                for sn, _, span in pb_fields(ss):
                    if sn != 2:
                        continue
                    f = {k: v for k, _, v in pb_fields(span)}
                    out.append(
                        {
                            "traceId": hexid(f.get(1)),
                            "spanId": hexid(f.get(2)),
                            "parentSpanId": hexid(f.get(4)),
                            "name": f.get(5, b"").decode(errors="replace"),
                            "start": f.get(7, 0),
                            "end": f.get(8, 0),
                            "service": service,
                        }
                    )
        return out

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for rs in doc.get("resourceSpans") or []:
            attrs = (rs.get("resource") or {}).get("attributes") or []
            service = next(
                (a.get("value", {}).get("stringValue", "") for a in attrs if a.get("key") == "service.name"),
                "",
            )
            for ss in rs.get("scopeSpans") or []:
                for s in ss.get("spans") or []:
                    out.append(
                        {
                            "traceId": str(s.get("traceId", "")).lower(),
                            "spanId": str(s.get("spanId", "")).lower(),
                            "parentSpanId": str(s.get("parentSpanId", "")).lower(),
                            "name": s.get("name", ""),
                            "start": int(s.get("startTimeUnixNano", 0)),
                            "end": int(s.get("endTimeUnixNano", 0)),
                            "service": service,
                        }
                    )
        return out

    def otlp(self, req: Request) -> Reply:
        if req.path != "/v1/traces" or req.method != "POST":
            return text_reply(404, "404 page not found\n")
        ctype = (req.headers.get("Content-Type") or "").split(";")[0]
        try:
            spans = (
                self.from_json(req.json()) if ctype == "application/json" else self.from_protobuf(req.body)
            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, zlib.error) as e:
            return text_reply(400, f"failed to unmarshal request: {e}")
        self.ingest(spans)
        if ctype == "application/json":
            return json_reply(200, {})
        return Reply(200, b"", "application/x-protobuf")

    def handle(self, req: Request) -> Reply:
        p = req.path
        if p == "/ready":
            return text_reply(200, "ready\n")
        if p == "/api/echo":
            return text_reply(200, "echo")
        if p == "/metrics":
            extra = (
                "# HELP tempo_distributor_spans_received_total The total number of spans received.\n"
                "# TYPE tempo_distributor_spans_received_total counter\n"
                f'tempo_distributor_spans_received_total{{tenant="single-tenant"}} {len(self.spans)}\n'
            )
            return text_reply(
                200, exposition("tempo", TEMPO_VERSION, self.counter, extra), "text/plain; version=0.0.4"
            )
        if p == "/api/status/buildinfo":
            return json_reply(
                200,
                {
                    "version": TEMPO_VERSION,
                    "revision": REVISION,
                    "branch": "",
                    "buildUser": "",
                    "buildDate": "",
                    "goVersion": "",
                },
            )
        found = re.fullmatch(r"/api(?:/v2)?/traces/([0-9a-fA-F]{1,32})", p)
        if found:
            want = found.group(1).lower().rjust(32, "0")
            with self.lock:
                spans = [s for s in self.spans if s["traceId"] == want]
            if not spans:
                return text_reply(404, "trace not found\n")
            batches = [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": s["service"]}}]
                    },
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": s["traceId"],
                                    "spanId": s["spanId"],
                                    "parentSpanId": s["parentSpanId"],
                                    "name": s["name"],
                                    "startTimeUnixNano": str(s["start"]),
                                    "endTimeUnixNano": str(s["end"]),
                                }
                            ]
                        }
                    ],
                }
                for s in spans
            ]
            return json_reply(200, {"batches": batches})
        if p == "/api/search":
            with self.lock:
                roots: dict[str, dict[str, Any]] = {}
                for s in self.spans:
                    if not s["parentSpanId"] or s["traceId"] not in roots:
                        roots[s["traceId"]] = s
            traces = [
                {
                    "traceID": t,
                    "rootServiceName": s["service"],
                    "rootTraceName": s["name"],
                    "startTimeUnixNano": str(s["start"]),
                    "durationMs": max(0, (int(s["end"]) - int(s["start"])) // 10**6),
                }
                for t, s in roots.items()
            ]
            return json_reply(200, {"traces": traces[-int(req.query.get("limit") or 20) :], "metrics": {}})
        return text_reply(404, "404 page not found\n")


VERSION_FLAGS = ("-version", "--version")
LGTM_FLAGS = {
    "config.file",
    "config.expand-env",
    "target",
    "version",
    "log.level",
    "print-config-stderr",
    "log-config-reverse-order",
    "help",
}


def loki_main(argv: list[str]) -> int:
    if any(a in VERSION_FLAGS for a in argv):
        print(f"loki, version {LOKI_VERSION} (branch: HEAD, revision: {REVISION})")
        return 0
    cfg = load_config(go_flags(argv, LGTM_FLAGS, "loki"), "loki")
    common = cfg.get("common") or {}
    prefix = Path(str(common.get("path_prefix") or "/loki"))
    data = writable_dir(prefix / "agent-os-fake", "loki")
    port = int((cfg.get("server") or {}).get("http_listen_port") or 3100)
    loki = Loki(data)
    serve(port, loki.handle, loki.counter)
    log("loki", f"HTTP on :{port}, data in {data}")
    wait_forever()
    return 0


def tempo_main(argv: list[str]) -> int:
    if any(a in VERSION_FLAGS for a in argv):
        print(f"tempo, version {TEMPO_VERSION} (branch: HEAD, revision: {REVISION})")
        return 0
    cfg = load_config(go_flags(argv, LGTM_FLAGS, "tempo"), "tempo")
    trace = (cfg.get("storage") or {}).get("trace") or {}
    wal = writable_dir(Path(str((trace.get("wal") or {}).get("path") or "/var/tempo/wal")), "tempo")
    writable_dir(Path(str((trace.get("local") or {}).get("path") or "/var/tempo/blocks")), "tempo")
    port = int((cfg.get("server") or {}).get("http_listen_port") or 3200)
    protocols = (((cfg.get("distributor") or {}).get("receivers") or {}).get("otlp") or {}).get(
        "protocols"
    ) or {}
    tempo = Tempo(wal)
    serve(port, tempo.handle, tempo.counter)
    if "http" in protocols:
        endpoint = str((protocols.get("http") or {}).get("endpoint") or "0.0.0.0:4318")
        serve(int(endpoint.rpartition(":")[2]), tempo.otlp)
        log("tempo", f"OTLP/HTTP receiver on {endpoint} (OTLP/gRPC is not served by the fake)")
    log("tempo", f"HTTP on :{port}, WAL in {wal}")
    wait_forever()
    return 0


# --- cAdvisor -------------------------------------------------------------------------------


def prom_label_name(k: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", k)


def prom_escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Cadvisor:
    """cAdvisor's /healthz and /metrics: per running container (from the Docker socket,
    refreshed every housekeeping interval) CPU, memory, last-seen and start time, labelled
    id/name/image and, with --store_container_labels, every container label as
    container_label_<name> (what the autoscaler keys on); machine_* and cadvisor_version_info."""

    def __init__(self, sock: str, interval: float, store_labels: bool) -> None:
        self.sock = sock
        self.interval = interval
        self.store_labels = store_labels
        self.text = ""
        self.lock = threading.Lock()
        self.docker_version = ""
        self.ok = False

    def refresh(self) -> None:
        _, _, body = docker_call(self.sock, "GET", "/containers/json")
        containers = json.loads(body)
        _, _, vbody = docker_call(self.sock, "GET", "/version")
        self.docker_version = str(json.loads(vbody).get("Version", ""))

        def stats(c: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
            _, _, b = docker_call(self.sock, "GET", f"/containers/{c['Id']}/stats?stream=false&one-shot=true")
            return c, json.loads(b)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(stats, containers))
        series: dict[str, list[str]] = {k: [] for k in METRICS}
        for c, s in results:
            labels = {
                "id": f"/docker/{c['Id']}",
                "name": str((c.get("Names") or ["/"])[0]).lstrip("/"),
                "image": str(c.get("Image", "")),
            }
            if self.store_labels:
                labels |= {
                    f"container_label_{prom_label_name(k)}": str(v)
                    for k, v in (c.get("Labels") or {}).items()
                }
            lab = ",".join(f'{k}="{prom_escape(v)}"' for k, v in sorted(labels.items()))
            cpu = (s.get("cpu_stats") or {}).get("cpu_usage") or {}
            mem = s.get("memory_stats") or {}
            usage = float(mem.get("usage") or 0)
            inactive = float((mem.get("stats") or {}).get("inactive_file") or 0)
            series["container_cpu_usage_seconds_total"].append(
                f'container_cpu_usage_seconds_total{{{lab},cpu="total"}} {float(cpu.get("total_usage") or 0) / 1e9:.6f}'
            )
            series["container_memory_usage_bytes"].append(
                f"container_memory_usage_bytes{{{lab}}} {usage:.0f}"
            )
            series["container_memory_working_set_bytes"].append(
                f"container_memory_working_set_bytes{{{lab}}} {max(0.0, usage - inactive):.0f}"
            )
            series["container_spec_memory_limit_bytes"].append(
                f"container_spec_memory_limit_bytes{{{lab}}} {float(mem.get('limit') or 0):.0f}"
            )
            series["container_last_seen"].append(f"container_last_seen{{{lab}}} {time.time():.3f}")
            series["container_start_time_seconds"].append(
                f"container_start_time_seconds{{{lab}}} {float(c.get('Created') or 0):.0f}"
            )
        lines: list[str] = []
        for name, (kind, helptext) in METRICS.items():
            lines += [f"# HELP {name} {helptext}", f"# TYPE {name} {kind}", *series[name]]
        uname = os.uname()
        lines += [
            "# HELP cadvisor_version_info A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.",
            "# TYPE cadvisor_version_info gauge",
            f'cadvisor_version_info{{cadvisorRevision="{REVISION}",cadvisorVersion="{CADVISOR_VERSION}",dockerVersion="{prom_escape(self.docker_version)}",kernelVersion="{prom_escape(uname.release)}",osVersion="agent-os fake"}} 1',
            "# HELP machine_cpu_cores Number of logical CPU cores.",
            "# TYPE machine_cpu_cores gauge",
            f"machine_cpu_cores {os.cpu_count() or 1}",
        ]
        with self.lock:
            self.text = "\n".join(lines) + "\n"
            self.ok = True

    def loop(self) -> None:
        while True:
            try:
                self.refresh()
            except (OSError, ValueError) as e:
                log("cadvisor", f"housekeeping: {e}")
                with self.lock:
                    self.ok = False
            time.sleep(self.interval)

    def handle(self, req: Request) -> Reply:
        if req.path == "/healthz":
            return text_reply(200, "ok")
        if req.path == "/metrics":
            with self.lock:
                return text_reply(200, self.text, "text/plain; version=0.0.4; charset=utf-8")
        return text_reply(404, "404 page not found\n")


METRICS: dict[str, tuple[str, str]] = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_memory_usage_bytes": (
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
    ),
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "container_spec_memory_limit_bytes": ("gauge", "Memory limit for the container."),
    "container_last_seen": ("gauge", "Last time a container was seen by the exporter"),
    "container_start_time_seconds": ("gauge", "Start time of the container since unix epoch in seconds."),
}
CADVISOR_FLAGS = {
    "docker_only",
    "housekeeping_interval",
    "store_container_labels",
    "logtostderr",
    "port",
    "docker",
    "v",
    "version",
    "listen_ip",
    "disable_metrics",
    "enable_metrics",
    "docker_root",
}


def duration_s(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if m is None:
        raise SystemExit(f'invalid value "{text}" for flag -housekeeping_interval: parse error')
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def cadvisor_main(argv: list[str]) -> int:
    flags = go_flags(argv, CADVISOR_FLAGS, "cadvisor")
    if flags.get("version") == "true":
        print(f"cAdvisor version {CADVISOR_VERSION} ({REVISION})")
        return 0
    sock = flags.get("docker", "unix:///var/run/docker.sock").removeprefix("unix://")
    c = Cadvisor(
        sock,
        duration_s(flags.get("housekeeping_interval", "10s")),
        flags.get("store_container_labels", "true") == "true",
    )
    threading.Thread(target=c.loop, daemon=True).start()
    port = int(flags.get("port", "8080"))
    serve(port, c.handle)
    log("cadvisor", f"HTTP on :{port}, Docker at {sock}")
    wait_forever()
    return 0


# --- dispatch -------------------------------------------------------------------------------

MAINS: dict[str, Callable[[list[str]], int]] = {
    "technitium": technitium_main,
    "portainer": portainer_main,
    "agent": agent_main,
    "grafana": grafana_main,
    "grafana-server": lambda argv: grafana_main(["server", *argv]),
    "run.sh": run_sh_main,
    "loki": loki_main,
    "tempo": tempo_main,
    "cadvisor": cadvisor_main,
}


def main() -> int:
    name = Path(sys.argv[0]).name
    if name in MAINS:
        return MAINS[name](sys.argv[1:])
    if len(sys.argv) > 1 and sys.argv[1] in MAINS:  # python3 server.py <product> ...
        return MAINS[sys.argv[1]](sys.argv[2:])
    print(f"usage: {name} {{{'|'.join(MAINS)}}} ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
