"""The fakes for the images no build is obtainable for (verify/images/recipes/fakes.py,
verify/images/files/fakes/server.py), built here (cached) and each run from the staging
stack's own service spec with fakes.OVERRIDES as its images.overrides: the image, command
and args, user, env, capabilities, init, limits, volumes, binds, and every config and
secret file with its content, owner and mode. Each must turn healthy by the healthcheck
the program declares (the engine runs it), and answer the calls the program's own steps
make: dnsctl.py password/sync and a DNS query (Technitium), portainerctl.py password/oauth
and the Docker API through the agent (Portainer), Grafana's start script resetting a
rotated admin password, its datasources and OAuth redirect, Loki push/query, Tempo OTLP
and trace lookup, cAdvisor's per-container metrics; every /metrics passes promtool."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume
from docker.types import Mount

from tools import mockrun
from verify.engine import start_engine
from verify.images import build
from verify.images.recipes import FAKES, RECIPES
from verify.images.recipes.fakes import OVERRIDES

pytestmark = pytest.mark.images

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "command:local:Command"
SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
FAKED = ("technitium", "grafana", "loki", "tempo", "portainer", "portainer-agent", "cadvisor")
NEW_PASSWORD = "rotated-admin-pw-0002"


def ns(duration: str) -> int:
    """A Swarm duration ("15s", "5m") in nanoseconds."""
    unit = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    for suffix in ("ms", "s", "m", "h"):
        if duration.endswith(suffix):
            return int(float(duration.removesuffix(suffix)) * unit[suffix])
    raise ValueError(duration)


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    engine = start_engine()
    c = docker.from_env(timeout=300)
    lock = build.acquire_lock()
    uv = build.rootfs.uv_version()
    try:
        for recipe in (*FAKES.values(), RECIPES["prometheus"]):  # promtool checks the metrics
            build.ensure(c, recipe, uv)
    finally:
        lock.close()
    yield c
    c.close()
    engine.close()


@pytest.fixture(scope="module")
def run() -> mockrun.Run:
    """The staging stack with the fakes as its images.overrides (over the stack file's)."""
    images = dict(mockrun.stack_config("staging")[0].get("agent-os:images") or {})
    images["overrides"] = {**(images.get("overrides") or {}), **OVERRIDES}
    return mockrun.run("staging", overrides={"agent-os:images": images})


def spec_of(run: mockrun.Run, service: str) -> dict[str, Any]:
    return run.services()[service].plain["taskSpec"]


def secret_value(run: mockrun.Run, secret_id: str) -> str:
    (r,) = [r for r in run.by_type(SECRET) if r.id == secret_id]
    return base64.b64decode(r.plain["data"]).decode()


def config_value(run: mockrun.Run, config_id: str) -> str:
    (r,) = [r for r in run.by_type(CONFIG) if r.id == config_id]
    return base64.b64decode(r.plain["data"]).decode()


@dataclass
class Task:
    container: Container
    ip: str

    def url(self, port: int, path: str = "") -> str:
        return f"http://{self.ip}:{port}{path}"


@dataclass
class Cluster:
    """Tasks of the staging services on one bridge network (reachable as the service name
    and tasks.<service>), each with a volume per volume mount kept across restarts."""

    client: docker.DockerClient
    run: mockrun.Run
    scratch: Path
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    net: Network | None = None
    volumes: dict[str, Volume] = field(default_factory=dict[str, Volume])
    tasks: list[Container] = field(default_factory=list[Container])
    skipped_binds: list[str] = field(default_factory=list[str])

    def network(self) -> Network:
        if self.net is None:
            self.net = self.client.networks.create(f"pvf-net-{self.suffix}", driver="bridge")
        return self.net

    def start(self, service: str, secrets: dict[str, str] | None = None) -> Task:
        """One task of `service` as the engine starts it from the program's task spec;
        `secrets` replace secret file contents by target path."""
        task = spec_of(self.run, service)
        cs = task["containerSpec"]
        assert cs["image"] == OVERRIDES[service], cs["image"]
        files = self.scratch / f"{service}-{uuid.uuid4().hex[:6]}"
        files.mkdir()
        mounts: list[Mount] = []
        for m in cs.get("mounts") or []:
            if m["type"] == "volume":
                vol = self.volumes.get(m["source"])
                if vol is None:
                    vol = self.client.volumes.create(f"pvf-{m['source']}-{self.suffix}")
                    self.volumes[m["source"]] = vol
                mounts.append(Mount(m["target"], vol.name, type="volume", read_only=bool(m.get("readOnly"))))
            elif Path(m["source"]).exists():
                mounts.append(Mount(m["target"], m["source"], type="bind", read_only=bool(m.get("readOnly"))))
            else:  # Swarm would refuse the task ("bind source path does not exist")
                self.skipped_binds.append(f"{service}: {m['source']}")
        placed = [(f, config_value(self.run, f["configId"])) for f in cs.get("configs") or []]
        placed += [
            (f, (secrets or {}).get(f["fileName"], secret_value(self.run, f["secretId"])))
            for f in cs.get("secrets") or []
        ]
        for i, (f, content) in enumerate(placed):
            path = files / f"{i}-{Path(f['fileName']).name}"
            path.write_text(content)
            os.chown(path, int(f["fileUid"]), int(f["fileGid"]))
            path.chmod(int(f["fileMode"]))
            mounts.append(Mount(f["fileName"], str(path), type="bind", read_only=True))
        hc = cs["healthcheck"]
        health = {
            "test": hc["tests"],
            "interval": ns("2s"),  # the declared test, user and timeout; polled sooner
            "timeout": ns(hc["timeout"]),
            "retries": int(hc["retries"]),
            "start_period": ns(hc["startPeriod"]),
        }
        limits = (task.get("resources") or {}).get("limits") or {}
        c = self.client.containers.create(
            cs["image"],
            cs.get("args") or None,
            entrypoint=cs.get("commands") or None,
            user=cs.get("user") or "",
            environment=cs.get("env") or {},
            cap_drop=cs.get("capDrops") or None,
            cap_add=cs.get("capAdds") or None,
            init=bool(cs.get("init")),
            hostname=cs.get("hostname"),
            read_only=bool(cs.get("readOnly")),
            mem_limit=int(limits["memoryBytes"]) if "memoryBytes" in limits else None,
            nano_cpus=int(limits["nanoCpus"]) if "nanoCpus" in limits else None,
            mounts=mounts,
            healthcheck=health,
            name=f"pvf-{service}-{uuid.uuid4().hex[:8]}",
        )
        self.tasks.append(c)
        self.network().connect(c, aliases=[service, f"tasks.{service}"])
        c.start()
        c.reload()
        return Task(c, c.attrs["NetworkSettings"]["Networks"][self.network().name]["IPAddress"])

    def stop(self, t: Task) -> None:
        t.container.remove(force=True)
        self.tasks.remove(t.container)

    def close(self) -> None:
        for c in self.tasks:
            c.remove(force=True, v=True)
        if self.net is not None:
            self.net.remove()
        for v in self.volumes.values():
            v.remove(force=True)


@pytest.fixture
def cluster(client: docker.DockerClient, run: mockrun.Run) -> Iterator[Cluster]:
    scratch = Path(tempfile.mkdtemp(prefix="pvf-"))
    c = Cluster(client, run, scratch)
    try:
        yield c
    finally:
        c.close()
        shutil.rmtree(scratch, ignore_errors=True)


def healthy(t: Task, timeout: float = 120) -> None:
    """The engine reports the declared healthcheck passing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t.container.reload()
        state = t.container.attrs["State"]
        if state["Status"] != "running":
            pytest.fail(f"{t.container.name} exited: {t.container.logs(tail=40).decode(errors='replace')}")
        if state.get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    log = json.dumps(t.container.attrs["State"].get("Health", {}).get("Log", [])[-2:])
    pytest.fail(
        f"{t.container.name}: not healthy within {timeout:.0f}s: {log}\n{t.container.logs(tail=40).decode()}"
    )


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect())


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    context: ssl.SSLContext | None = None,
) -> Answer:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data, h, method=method)
    opener = (
        OPENER
        if context is None
        else urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    )
    try:
        with opener.open(req, timeout=30) as r:
            return Answer(r.status, r.read(), dict(r.headers))
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.read(), dict(e.headers))


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call(url).status < 500:
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout:.0f}s")


def step(run: mockrun.Run, name: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The program's command step `name`, with its own environment (and `env` over it)."""
    p = run.one(COMMAND, name).plain
    full = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    full |= {k: str(v) for k, v in (p.get("environment") or {}).items()} | env
    return subprocess.run(
        ["/bin/sh", "-c", p["create"]], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def promtool_ok(client: docker.DockerClient, scratch: Path, text: str, upstream_lint: str = "") -> None:
    """The exposition text passes Prometheus's own promtool: it parses, and lints clean
    but for `upstream_lint` (a problem the real product's own output has too)."""
    f = scratch / f"metrics-{uuid.uuid4().hex[:6]}.txt"
    f.write_text(text)
    f.chmod(0o444)
    out = client.containers.run(
        RECIPES["prometheus"].alias,
        ["-c", "promtool check metrics < /m; echo rc=$?"],
        entrypoint=["/bin/sh"],
        mounts=[Mount("/m", str(f), type="bind", read_only=True)],
        remove=True,
        stderr=True,
        name=f"pvf-promtool-{uuid.uuid4().hex[:8]}",
    )
    lines = (out.decode() if isinstance(out, bytes) else str(out)).strip().splitlines()
    rc, problems = lines[-1], lines[:-1]
    assert rc in ("rc=0", "rc=3"), lines  # 1: a parse error
    assert all(upstream_lint and upstream_lint in p for p in problems), problems


def dns_query(ip: str, name: str) -> tuple[int, list[str]]:
    """(rcode, A records) of one UDP query."""
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, (ip, 53))
        reply = s.recv(4096)
    rcode, count = struct.unpack(">H", reply[2:4])[0] & 0xF, struct.unpack(">H", reply[6:8])[0]
    i, ips = len(q), []
    for _ in range(count):
        _, rtype, _, _, length = struct.unpack(">HHHIH", reply[i : i + 12])
        if rtype == 1:
            ips.append(socket.inet_ntoa(reply[i + 12 : i + 12 + length]))
        i += 12 + length
    return rcode, ips


# --- the tests ------------------------------------------------------------------------------


def test_the_override_map_makes_staging_use_the_fakes(run: mockrun.Run) -> None:
    assert set(OVERRIDES) == set(FAKED)
    assert {s: spec_of(run, s)["containerSpec"]["image"] for s in FAKED} == OVERRIDES
    assert set(FAKES) == {f"{k}-fake" for k in FAKED}


def test_technitium(cluster: Cluster, run: mockrun.Run) -> None:
    """Healthy by its TCP probe; the readiness probe's endpoint; the program's password
    and records steps; DNS answers; a rotated password file is ignored on a restart and the
    password step brings the server to it."""
    t = cluster.start("technitium")
    healthy(t)
    api = t.url(5380)
    session = call(f"{api}/api/user/session/get")
    assert session.status == 200 and session.json()["status"] == "invalid-token"  # curl -f passes
    where = {"DNS_API_URL": api, "DNS_API_CONNECT": "", "DNS_API_INSECURE": "0", "DNS_API_CA_FILE": ""}
    first = secret_value(run, "technitium-admin-password-id")
    done = step(run, "technitium-admin-password", **where, DNS_API_PASSWORD=first)
    assert done.returncode == 0 and "unchanged" in done.stderr, done.stderr
    records = json.loads(run.one(COMMAND, "dns-records").plain["environment"]["DNS_RECORDS"])
    done = step(run, "dns-records", **where, DNS_API_PASSWORD=first)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == len(records) > 0
    again = step(run, "dns-records", **where, DNS_API_PASSWORD=first)
    assert json.loads(again.stdout) | {"zone": ""} == {
        "zone": "",
        "added": 0,
        "removed": 0,
        "kept": len(records),
    }
    assert dns_query(t.ip, records[0]["name"]) == (
        0,
        [r["ip"] for r in records if r["name"] == records[0]["name"]],
    )
    zone = run.one(COMMAND, "dns-records").plain["environment"]["DNS_ZONE"]
    assert dns_query(t.ip, f"nothing-here.{zone}")[0] == 3  # NXDOMAIN
    wrong = step(run, "dns-records", **where, DNS_API_PASSWORD="not-the-password")
    assert wrong.returncode == 1 and "Invalid username or password" in wrong.stderr
    # Rotation: a new task with a new password file on the same volume.
    cluster.stop(t)
    t = cluster.start("technitium", {"/run/secrets/technitium_admin_password": NEW_PASSWORD})
    healthy(t)
    where["DNS_API_URL"] = t.url(5380)
    refused = step(run, "technitium-admin-password", **where, DNS_API_PASSWORD=NEW_PASSWORD)
    assert refused.returncode == 1 and "no previous password is known" in refused.stderr
    previous = json.dumps({"admin_password": first})
    done = step(
        run,
        "technitium-admin-password",
        **where,
        DNS_API_PASSWORD=NEW_PASSWORD,
        PULUMI_COMMAND_STDOUT=previous,
    )
    assert done.returncode == 0 and "changed from the previous password" in done.stderr, done.stderr
    kept = step(run, "dns-records", **where, DNS_API_PASSWORD=NEW_PASSWORD)
    assert kept.returncode == 0 and json.loads(kept.stdout)["kept"] == len(records), kept.stderr


def test_portainer_and_agent(cluster: Cluster, run: mockrun.Run, client: docker.DockerClient) -> None:
    """Agent and server healthy by their declared checks; /api/system/status; the
    program's password and OAuth steps; the -H environment up and the Docker API through
    the agent (signed with AGENT_SECRET); refusals; a rotation through the password step."""
    agent = cluster.start("portainer-agent")
    healthy(agent)
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    assert call(f"https://{agent.ip}:9001/ping", context=insecure).status == 204
    unsigned = call(f"https://{agent.ip}:9001/info", context=insecure)
    assert unsigned.status == 403, unsigned.body
    server = cluster.start("portainer")
    healthy(server)
    api = server.url(9000)
    wait_http(f"{api}/api/system/status")
    assert call(f"{api}/api/system/status").json()["Version"] == "2.33.2"
    where = {"PT_URL": api, "PT_CONNECT": "", "PT_INSECURE": "0", "PT_CA_FILE": ""}
    first = secret_value(run, "portainer-admin-password-id")
    done = step(run, "portainer-admin-password", **where, PT_PASSWORD=first)
    assert done.returncode == 0 and "unchanged" in done.stderr, done.stderr
    done = step(run, "portainer-oauth", **where, PT_PASSWORD=first)
    assert done.returncode == 0 and "oauth configured" in done.stdout, done.stderr
    jwt = call(f"{api}/api/auth", "POST", {"Username": "admin", "Password": first}).json()["jwt"]
    auth = {"Authorization": f"Bearer {jwt}"}
    settings = call(f"{api}/api/settings", headers=auth).json()
    oauth = json.loads(run.one(COMMAND, "portainer-oauth").plain["environment"]["OAUTH_JSON"])
    assert settings["AuthenticationMethod"] == 3
    assert settings["OAuthSettings"]["AuthorizationURI"] == oauth["authorization_uri"]
    assert "ClientSecret" not in settings["OAuthSettings"]
    (endpoint,) = call(f"{api}/api/endpoints", headers=auth).json()
    assert (endpoint["Name"], endpoint["Status"]) == ("primary", 1), endpoint
    assert endpoint["URL"] == "tcp://tasks.portainer-agent:9001"
    swarm = call(f"{api}/api/endpoints/{endpoint['Id']}/docker/swarm", headers=auth)
    assert swarm.status == 200 and swarm.json()["ID"] == client.swarm.attrs["ID"]
    wrong = call(f"{api}/api/auth", "POST", {"Username": "admin", "Password": "wrong-password-123"})
    assert (wrong.status, wrong.json()["message"]) == (422, "Invalid credentials")
    assert call(f"{api}/api/endpoints").status == 401
    # Rotation: a new task with a new password file on the same /data.
    cluster.stop(server)
    server = cluster.start("portainer", {"/run/secrets/portainer_admin_password": NEW_PASSWORD})
    healthy(server)
    where["PT_URL"] = api = server.url(9000)
    wait_http(f"{api}/api/system/status")
    assert call(f"{api}/api/auth", "POST", {"Username": "admin", "Password": NEW_PASSWORD}).status == 422
    previous = json.dumps({"admin_password": first})
    done = step(
        run, "portainer-admin-password", **where, PT_PASSWORD=NEW_PASSWORD, PULUMI_COMMAND_STDOUT=previous
    )
    assert done.returncode == 0 and "changed from the previous password" in done.stderr, done.stderr
    assert call(f"{api}/api/endpoints", headers=auth).status == 401  # tokens before the change are revoked
    assert call(f"{api}/api/auth", "POST", {"Username": "admin", "Password": first}).status == 422
    done = step(run, "portainer-oauth", **where, PT_PASSWORD=NEW_PASSWORD)
    assert done.returncode == 0, done.stderr


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_grafana_loki_tempo(cluster: Cluster, run: mockrun.Run, client: docker.DockerClient) -> None:
    """Loki and Tempo with the program's rendered configs on their volumes, healthy by their
    declared checks and ready; a log line pushed and queried back, a span sent over
    OTLP/HTTP and its trace found; Grafana healthy, its provisioned datasources (Loki and
    Tempo healthy through it), the admin from the secret file, the OAuth redirect, and a
    rotated admin password applied by the program's start script on the next start."""
    loki, tempo = cluster.start("loki"), cluster.start("tempo")
    healthy(loki)
    healthy(tempo)
    wait_http(loki.url(3100, "/ready"))
    wait_http(tempo.url(3200, "/ready"))
    now = time.time_ns()
    push = {
        "streams": [{"stream": {"job": "pvf", "service": "check"}, "values": [[str(now), "hello from pvf"]]}]
    }
    assert call(loki.url(3100, "/loki/api/v1/push"), "POST", push).status == 204
    q = urllib.parse.urlencode(
        {"query": '{job="pvf"} |= "hello"', "start": str(now - 10**9), "end": str(now + 10**9)}
    )
    streams = call(loki.url(3100, f"/loki/api/v1/query_range?{q}")).json()["data"]["result"]
    assert streams[0]["values"] == [[str(now), "hello from pvf"]]
    bad = call(
        loki.url(3100, "/loki/api/v1/push"),
        "POST",
        {"streams": [{"stream": {}, "values": [[str(now), "x"]]}]},
    )
    assert bad.status == 400
    trace_id, span = bytes(range(1, 17)), bytes(range(1, 9))

    def pb(num: int, payload: bytes) -> bytes:
        return bytes([num << 3 | 2, len(payload)]) + payload

    service = pb(1, b"service.name") + pb(2, pb(1, b"pvf-check"))
    body = pb(1, pb(1, pb(1, service)) + pb(2, pb(2, pb(1, trace_id) + pb(2, span) + pb(5, b"op"))))
    sent = call(
        tempo.url(4318, "/v1/traces"), "POST", raw=body, headers={"Content-Type": "application/x-protobuf"}
    )
    assert sent.status == 200
    found = call(tempo.url(3200, f"/api/traces/{trace_id.hex()}")).json()
    assert found["batches"][0]["scopeSpans"][0]["spans"][0]["name"] == "op"
    assert call(tempo.url(3200, f"/api/traces/{'ab' * 16}")).status == 404
    for t, port in ((loki, 3100), (tempo, 3200)):
        promtool_ok(client, cluster.scratch, call(t.url(port, "/metrics")).body.decode())

    g = cluster.start("grafana")
    healthy(g)
    health = call(g.url(3000, "/api/health")).json()
    assert health["version"] == "12.2.1" and health["database"] == "ok"
    first = secret_value(run, "grafana-admin-password-id")
    me = call(g.url(3000, "/api/user"), headers=basic("admin", first))
    assert me.status == 200 and me.json()["isGrafanaAdmin"] is True
    assert call(g.url(3000, "/api/user"), headers=basic("admin", "wrong")).status == 401
    sources = call(g.url(3000, "/api/datasources"), headers=basic("admin", first)).json()
    assert {d["uid"] for d in sources} == {"prometheus", "loki", "tempo", "alertmanager"}
    status = {
        d["uid"]: call(
            g.url(3000, f"/api/datasources/uid/{d['uid']}/health"), headers=basic("admin", first)
        ).status
        for d in sources
    }
    assert status == {"loki": 200, "tempo": 200, "prometheus": 400, "alertmanager": 400}  # no Prometheus here
    labels = call(
        g.url(3000, "/api/datasources/proxy/uid/loki/loki/api/v1/labels"), headers=basic("admin", first)
    )
    assert "job" in labels.json()["data"]
    env = spec_of(run, "grafana")["containerSpec"]["env"]
    login = call(g.url(3000, "/login/generic_oauth"))
    where = urllib.parse.urlsplit(login.headers["Location"])
    params = dict(urllib.parse.parse_qsl(where.query))
    assert login.status == 302 and login.headers["Location"].startswith(
        env["GF_AUTH_GENERIC_OAUTH_AUTH_URL"] + "?"
    )
    assert params["client_id"] == env["GF_AUTH_GENERIC_OAUTH_CLIENT_ID"]
    assert params["redirect_uri"] == env["GF_SERVER_ROOT_URL"] + "login/generic_oauth"
    assert params["code_challenge_method"] == "S256" and params["scope"] == "openid profile email"
    promtool_ok(client, cluster.scratch, call(g.url(3000, "/metrics")).body.decode())
    # Rotation: a new task with a new admin password file on the same volume.
    cluster.stop(g)
    g = cluster.start("grafana", {"/run/secrets/grafana_admin_password": NEW_PASSWORD})
    healthy(g)
    assert call(g.url(3000, "/api/user"), headers=basic("admin", NEW_PASSWORD)).status == 200
    assert call(g.url(3000, "/api/user"), headers=basic("admin", first)).status == 401
    logs = g.container.logs().decode(errors="replace")
    assert "admin password set from" in logs and NEW_PASSWORD not in logs


def test_grafana_datasources_file_is_the_programs(run: mockrun.Run) -> None:
    (f,) = [c for c in spec_of(run, "grafana")["containerSpec"]["configs"] if "datasources" in c["fileName"]]
    doc = yaml.safe_load(config_value(run, f["configId"]))
    assert {d["uid"] for d in doc["datasources"]} == {"prometheus", "loki", "tempo", "alertmanager"}


def test_cadvisor(cluster: Cluster, client: docker.DockerClient) -> None:
    """Healthy by its wget /healthz; per-container metrics from the bound Docker socket,
    with the container labels the autoscaler keys on; valid for promtool."""
    t = cluster.start("cadvisor")
    healthy(t)
    name = str(t.container.name)
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline and name not in text:
        text = call(t.url(8080, "/metrics")).body.decode()
        time.sleep(1)
    own = [
        ln for ln in text.splitlines() if ln.startswith("container_cpu_usage_seconds_total{") and name in ln
    ]
    assert own, text[:2000]
    tasks = client.containers.list(filters={"label": "com.docker.swarm.service.name"})
    if tasks:
        assert "container_label_com_docker_swarm_service_name=" in text
    # cAdvisor's own version labels are camelCase (cadvisorVersion, dockerVersion, ...).
    promtool_ok(
        client, cluster.scratch, text, "cadvisor_version_info label names should be written in 'snake_case'"
    )
    if cluster.skipped_binds:
        print(f"binds the program declares that do not exist on this host: {cluster.skipped_binds}")
