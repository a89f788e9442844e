"""Shared helpers for the user journeys against the deployed staging stack (tests/stack):
an HTTPS client that trusts only the stack's own root CA and never follows redirects,
Keycloak tokens, the operator's view of the stack (outputs and state, secrets included),
`docker exec` into a service's running task container, psql through the admin tunnel, and
the time each journey takes."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.stack import stackhelp
from tests.stack.stackhelp import report

# How the state file marks a secret value ({SIG: SECRET_SIG, "plaintext": <JSON text>}).
SECRET_SIG = "4dabf18193072939515e22adb298388d"


@contextlib.contextmanager
def journey(name: str) -> Iterator[None]:
    """Prints `[time] journey <name>: N s` when the journey ends (passed or not)."""
    t0 = time.monotonic()
    try:
        yield
    finally:
        report(f"[time] journey {name}: {time.monotonic() - t0:.1f} s")


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None  # the 3xx comes back to the caller as the response


class _PinnedConnection(http.client.HTTPSConnection):
    """Connects to the ingress address, verifies TLS for the URL's host name (what
    `curl --resolve` does): no reliance on the host names resolving on this machine."""

    def __init__(self, host: str, *, ingress: str, context: ssl.SSLContext, **kw: Any) -> None:
        super().__init__(host, context=context, **kw)
        self._ingress = ingress
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._ingress, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


class _PinnedHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext, ingress: str) -> None:
        super().__init__(context=context)
        self._tls = context
        self._ingress = ingress

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        ingress = self._ingress

        def connection(host: str, **kw: Any) -> http.client.HTTPSConnection:
            return _PinnedConnection(host, ingress=ingress, **kw)

        return self.do_open(connection, req, context=self._tls)


class Https:
    """HTTPS that verifies against one CA file only and does not follow redirects; with
    `ingress`, every connection goes to that address (TLS still checked for the URL's host)."""

    def __init__(self, ca_file: Path, ingress: str | None = None) -> None:
        if not ca_file.is_file():
            raise AssertionError(f"the stack's root CA is not at {ca_file}")
        ctx = ssl.create_default_context(cafile=str(ca_file))
        handler = _PinnedHandler(ctx, ingress) if ingress else urllib.request.HTTPSHandler(context=ctx)
        self._opener = urllib.request.build_opener(handler, _NoRedirect())

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        timeout: float = 30,
    ) -> Response:
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        try:
            with self._opener.open(req, timeout=timeout) as r:
                return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def get(self, url: str, token: str | None = None) -> Response:
        return self.request("GET", url, bearer(token))

    def post_form(self, url: str, form: Mapping[str, str]) -> Response:
        body = urllib.parse.urlencode(dict(form)).encode()
        return self.request("POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, body)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def token_url(sso_url: str, realm: str) -> str:
    return f"{sso_url.rstrip('/')}/realms/{realm}/protocol/openid-connect/token"


def client_credentials_token(https: Https, url: str, client_id: str, client_secret: str) -> str:
    res = https.post_form(
        url, {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    )
    assert res.status == 200, f"client credentials token for {client_id}: {res.status} {res.text[:500]}"
    return str(res.json()["access_token"])


def password_token(https: Https, url: str, client_id: str, username: str, password: str) -> str:
    form = {"grant_type": "password", "client_id": client_id, "username": username, "password": password}
    res = https.post_form(url, form)
    assert res.status == 200, f"password grant for {username}@{client_id}: {res.status} {res.text[:500]}"
    return str(res.json()["access_token"])


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying it (the service under test verifies)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def audiences(claims: Mapping[str, Any]) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [str(a) for a in aud or []]


def plain(value: Any) -> Any:
    """A state value with the engine's secret wrappers removed."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None and "plaintext" in value:
            return plain(json.loads(str(value["plaintext"])))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Stack:
    """The operator's view of the deployed stack: outputs, state (secrets shown), CA file."""

    def __init__(self, dep: stackhelp.Deployment) -> None:
        self.dep = dep

    @cached_property
    def outputs(self) -> dict[str, Any]:
        return self.dep.outputs()

    @cached_property
    def resources(self) -> list[dict[str, Any]]:
        state = json.loads(self.dep.pulumi("stack", "export", "--show-secrets").stdout)
        return list(state["deployment"]["resources"])

    def resource(self, name: str, type_: str | None = None) -> dict[str, Any]:
        """The one resource whose URN ends in `::<name>` (and of `type_`, if given)."""
        found = [
            r
            for r in self.resources
            if r["urn"].rsplit("::", 1)[-1] == name and (type_ is None or r["type"] == type_)
        ]
        assert len(found) == 1, f"{len(found)} resources named {name!r} ({type_}) in the state"
        return found[0]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def inputs(self, name: str, type_: str | None = None) -> dict[str, Any]:
        return plain(self.resource(name, type_).get("inputs", {}))

    def random_password(self, name: str) -> str:
        res = self.resource(name, "random:index/randomPassword:RandomPassword")
        return str(plain(res["outputs"]["result"]))

    @property
    def zone(self) -> str:
        return str(self.outputs["zone"])

    @property
    def urls(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.outputs["urls"].items()}

    @property
    def ca_file(self) -> Path:
        return self.dep.ws.project / ".agent-os" / stackhelp.STACK / "caddy-root.pem"

    @cached_property
    def https(self) -> Https:
        # Pinned to the ingress: the shared /etc/hosts block of the fixture can be removed by
        # another session's fixture (same marker) while this one runs.
        return Https(self.ca_file, stackhelp.INGRESS)


def run(
    argv: list[str], stdin: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def task_container(service: str) -> str:
    """The id of a running task container of a swarm service on this node."""
    ids = run(
        ["docker", "ps", "--filter", f"label=com.docker.swarm.service.name={service}", "-q"]
    ).stdout.split()
    assert ids, f"no running task container of service {service}"
    return ids[0]


def service_spec(service: str) -> dict[str, Any]:
    done = run(["docker", "service", "inspect", service, "--format", "{{json .Spec}}"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def exec_python(service: str, script: str, payload: Mapping[str, Any], timeout: float = 120) -> Any:
    """Run `script` with the service's task container's python; `payload` goes in as JSON on
    stdin (secrets never reach an argv), the script's last stdout line comes back as JSON."""
    done = run(
        ["docker", "exec", "-i", task_container(service), "python", "-c", script],
        stdin=json.dumps(dict(payload)),
        timeout=timeout,
    )
    assert done.returncode == 0, f"python in {service} exited {done.returncode}:\n{done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"python in {service} printed nothing; stderr:\n{done.stderr[-3000:]}"
    return json.loads(lines[-1])


def container_file(service: str, path: str) -> str:
    done = run(["docker", "exec", task_container(service), "cat", path])
    assert done.returncode == 0, f"cat {path} in {service}: {done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Psql:
    """psql (the client on this machine) as one role, through the Postgres admin tunnel."""

    host: str
    port: int
    user: str
    password: str

    def run(self, db: str, sql: str) -> subprocess.CompletedProcess[str]:
        conn = f"host={self.host} port={self.port} user={self.user} dbname={db}"
        return run(
            ["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", conn],
            stdin=sql,
            env={"PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "15"},
        )

    def rows(self, db: str, sql: str) -> list[list[str]]:
        done = self.run(db, sql)
        assert done.returncode == 0, f"psql as {self.user} on {db} failed:\n{done.stderr[-3000:]}"
        return [line.split("|") for line in done.stdout.splitlines() if line]


# Runs with the app image's python inside a task container: one operation, its input as
# JSON on stdin, its result as one JSON line on stdout.
IN_APP = r"""
import base64, hashlib, hmac, json, socket, struct, sys, urllib.error, urllib.parse, urllib.request

req = json.load(sys.stdin)
op = req["op"]


def http(method, url, headers, body):
    r = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def rpc(secret, method, graph, params=None, rid=1):
    msg = {"id": rid, "graph": graph, "method": method,
           "auth_token": hmac.new(secret.encode(), str(rid).encode(), hashlib.sha256).hexdigest()}
    if params:
        msg["params"] = params
    import msgpack
    body = msgpack.packb(msg)
    with socket.create_connection(tuple(req["engine"]), timeout=10) as s:
        s.sendall(struct.pack(">I", len(body)) + body)
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        buf = b""
        while len(buf) < n:
            buf += s.recv(n - len(buf))
    resp = msgpack.unpackb(buf, raw=False)
    res = resp.get("result")
    if isinstance(res, (bytes, bytearray)):
        res = msgpack.unpackb(res, raw=False)
    if resp.get("error"):
        raise SystemExit(f"{method} on {graph}: {resp['error']}")
    return res


if op == "token":
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": req["client_id"],
                                   "client_secret": req["client_secret"]}).encode()
    status, text = http("POST", req["url"], {"Content-Type": "application/x-www-form-urlencoded"}, form)
    out = {"status": status, "token": json.loads(text).get("access_token") if status == 200 else None,
           "body": "" if status == 200 else text[:500]}
elif op == "http":
    body = req.get("body")
    status, text = http(req["method"], req["url"], req.get("headers", {}),
                        None if body is None else json.dumps(body).encode())
    out = {"status": status, "body": text}
elif op == "produce":
    from confluent_kafka import Producer
    done = []
    p = Producer({"bootstrap.servers": req["bootstrap"]})
    p.produce(req["topic"], req["value"].encode(), key=req["key"].encode(), partition=req["partition"],
              on_delivery=lambda err, m: done.append([str(err) if err else None, m.partition(), m.offset()]))
    p.flush(30)
    out = {"delivered": done}
elif op == "nodes":
    # Every node (id, props) of every graph on the engine whose id or props mention `needle`.
    found = []
    for g in rpc(req["secret"], "ListGraphs", "__commons__"):
        for node_id, props in rpc(req["secret"], "GetNodes", g["name"]) or []:
            if req["needle"] in str(node_id) or req["needle"] in json.dumps(props, default=str):
                meta = props.get("metadata")
                if isinstance(meta, str):
                    try:
                        props["metadata"] = json.loads(meta)
                    except ValueError:
                        try:
                            props["metadata"] = json.loads(base64.b64decode(meta))
                        except Exception:
                            pass
                found.append({"graph": g["name"], "id": node_id, "props": props})
    out = {"nodes": found}
else:
    raise SystemExit(f"unknown op {op}")
print(json.dumps(out, default=str))
"""


def sh(argv: list[str], stdin: str | None = None, timeout: float = 120) -> str:
    """Run a command on this machine; its stdout, or an assertion naming it and its stderr."""
    done = run(argv, stdin=stdin, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv[:6])} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def in_app(payload: Mapping[str, Any], service: str = "agent-gateway") -> dict[str, Any]:
    """One IN_APP operation in `service`'s task container (the app image: python, msgpack,
    confluent_kafka; secrets travel on stdin)."""
    out = sh(
        ["docker", "exec", "-i", task_container(service), "python", "-c", IN_APP], stdin=json.dumps(payload)
    )
    return json.loads(out.strip().splitlines()[-1])


def wait(what: str, pred: Callable[[], bool], timeout: float, interval: float = 3.0) -> float:
    """Wait until `pred` holds (bounded) and print how long it took."""
    t0 = time.monotonic()
    try:
        stackhelp.wait_for(pred, timeout, interval)
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None
    took = time.monotonic() - t0
    report(f"[time] {what}: {took:.1f} s")
    return took
