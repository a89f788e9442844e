"""Run each built image the way the program does and check that it works.

    .venv/bin/python -m verify.images.check [NAME ...]     (default: all built)

Every container is started with a bounded wait and removed afterwards (with its volumes).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import yaml
from docker.errors import DockerException, ImageNotFound
from docker.models.containers import Container
from docker.types import Mount

from components.config import StackConfig
from components.config.data import KafkaConfig
from components.core import lgtm_config
from components.core.alertmanager import alertmanager_spec
from components.core.keycloak import token_client
from components.core.node_exporter import node_exporter_spec
from components.core.plan import ALERTMANAGER_CLIENT, PROMETHEUS_PORT
from components.core.prometheus import prometheus_spec
from components.data import kafka as program_kafka
from components.fleet import connectors as program_connectors
from components.fleet.process import TMP
from components.plan import StackPlan, stack_plan
from components.swarm import ConfigFile, Platform, SecretFile, ServiceSpec
from components.swarm.context import CorePlatform
from tools import mockrun

from .recipes import RECIPES
from .recipes.mcp_connectors import CONNECTORS, Connector

PG_CAPS = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
PG_SQL = """\
CREATE EXTENSION age;
CREATE EXTENSION vector;
LOAD 'age';
SET search_path = ag_catalog, "$user", public;
SELECT ag_catalog.create_graph('agent_graph');
SELECT * FROM cypher('agent_graph', $$ CREATE (:P {name: 'a'})-[:R]->(:P {name: 'b'}) $$) AS (v agtype);
SELECT * FROM cypher('agent_graph', $$ MATCH (:P)-[:R]->(b:P) RETURN b.name $$) AS (name agtype);
CREATE TABLE public.items (id serial PRIMARY KEY, embedding vector(3));
INSERT INTO public.items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]');
SELECT id FROM public.items ORDER BY embedding <-> '[4,5,7]' LIMIT 1;
SELECT extname || '=' || extversion FROM pg_extension ORDER BY 1;
"""
# Mirrors components/core/openbao_hcl.py for one member (raft + static seal).
BAO_HCL = """\
api_addr = "http://bao-1:8200"
cluster_addr = "http://bao-1:8201"
cluster_name = "agent-os"
listener "tcp" {
  address = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_disable = true
}
storage "raft" {
  path = "/openbao/file"
  node_id = "bao-1"
}
seal "static" {
  current_key_id = "k1"
  current_key = "file:///run/secrets/openbao_seal_key"
}
"""
BAO_HEALTH = "http://127.0.0.1:8200/v1/sys/health?standbyok=true&uninitcode=200&sealedcode=200"
KC_READY = (
    "exec 3<>/dev/tcp/127.0.0.1/9000 && "
    "printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && "
    "read -r status <&3 && [[ $status == *' 200'* ]]"
)

# Pulumi.staging.yaml, parsed as the program parses it.
STAGING: StackConfig = mockrun.stack_model("staging")
# The staging stack's data.kafka.
KAFKA_STAGING: KafkaConfig = STAGING.data.kafka
# components/data/kafka.py broker(): the service's healthcheck and user.
KAFKA_BS = f"127.0.0.1:{program_kafka.CLIENT_PORT}"
# The broker answers clients (the program's healthcheck is the controller port: Swarm DNS).
KAFKA_HEALTH = f"{program_kafka.BIN}/kafka-broker-api-versions.sh --bootstrap-server {KAFKA_BS} >/dev/null"
KAFKA_USER = "1000:1000"

MCP_JWKS_PORT = 8990
MCP_ISSUER = "http://keycloak:8080/realms/agent-os"
MCP_AUDIENCE = "agent-os-api"
MCP_JWT_AUTH = {
    "AUTH_TYPE": "jwt",
    "FASTMCP_SERVER_AUTH_JWT_JWKS_URI": f"http://127.0.0.1:{MCP_JWKS_PORT}/jwks.json",
    "FASTMCP_SERVER_AUTH_JWT_ISSUER": MCP_ISSUER,
    "FASTMCP_SERVER_AUTH_JWT_AUDIENCE": MCP_AUDIENCE,
}
# Run with the connector image's own Python: GET /health, then an MCP client's first request
# (POST /mcp `initialize`, streamable-http). With PROBE_JWT set it also serves a JWKS on
# 127.0.0.1 (the connector's FASTMCP_SERVER_AUTH_JWT_JWKS_URI, fetched on first use) and
# repeats `initialize` with an RS256 token it signs (right, then wrong audience).
MCP_PROBE = """\
import json, os, threading, time, urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = os.environ["PROBE_PORT"]
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "agent-os-check", "version": "1"}}}).encode()


def call(method, path, body=None, token=""):
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", body, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, kind, body = r.status, r.headers.get("content-type", ""), r.read(4000)
    except urllib.error.HTTPError as e:
        status, kind, body = e.code, e.headers.get("content-type", ""), e.read(2000)
    return {"status": status, "type": kind, "body": body.decode(errors="replace")}


out = {"health": call("GET", "/health"), "init": call("POST", "/mcp", INIT)}
if os.environ.get("PROBE_JWT"):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "check", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PROBE_JWKS_PORT"])), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    now = int(time.time())
    claims = {"iss": os.environ["PROBE_ISSUER"], "aud": os.environ["PROBE_AUDIENCE"],
              "sub": "agent-os-check", "iat": now, "exp": now + 300}

    def token(**kw):
        return jwt.encode({**claims, **kw}, key, algorithm="RS256", headers={"kid": "check"})

    out["init_token"] = call("POST", "/mcp", INIT, token())
    out["init_wrong_audience"] = call("POST", "/mcp", INIT, token(aud="someone-else"))
print("PROBE " + json.dumps(out))
"""


class CheckError(AssertionError):
    pass


def sh(
    c: Container, cmd: str | list[str], env: dict[str, str] | None = None, user: str = ""
) -> tuple[int, str]:
    """Run `cmd` in `c` (a string through sh -c, a list as is)."""
    res = c.exec_run(["sh", "-c", cmd] if isinstance(cmd, str) else cmd, environment=env, user=user)
    out = res.output if isinstance(res.output, bytes) else b"".join(res.output)
    return int(res.exit_code or 0), out.decode(errors="replace")


def wait_until(c: Container, cmd: str | list[str], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c.reload()
        if c.status != "running":
            raise CheckError(f"{what}: container exited; logs:\n{c.logs(tail=30).decode(errors='replace')}")
        if sh(c, cmd)[0] == 0:
            return
        time.sleep(2)
    raise CheckError(
        f"{what}: not ready within {timeout:.0f}s; logs:\n{c.logs(tail=30).decode(errors='replace')}"
    )


def expect(ok: bool, what: str, output: str) -> None:
    if not ok:
        raise CheckError(f"{what}:\n{output[-3000:]}")
    print(f"  ok: {what}")


def run_once(client: docker.DockerClient, image: str, cmd: list[str]) -> str:
    out = client.containers.run(image, cmd, remove=True, stdout=True, stderr=True)
    return out.decode(errors="replace") if isinstance(out, bytes) else str(out)


def check_postgres(client: docker.DockerClient, image: str, scratch: Path) -> None:
    pw = scratch / "pw"
    pw.write_text("s3cret-pw")
    pw.chmod(0o400)
    c = client.containers.run(
        image,
        ["postgres", "-c", "shared_preload_libraries=age", "-c", "port=5432"],
        detach=True,
        cap_drop=["ALL"],
        cap_add=PG_CAPS,
        environment={
            "POSTGRES_USER": "agentos",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres_password",
            "POSTGRES_DB": "postgres",
            "PGDATA": "/var/lib/postgresql/data/pgdata",
        },
        volumes={str(pw): {"bind": "/run/secrets/postgres_password", "mode": "ro"}},
    )
    try:
        wait_until(c, "pg_isready -h 127.0.0.1 -p 5432 -U agentos -d postgres", 90, "pg_isready")
        # psql reads the password from PGPASSWORD: scram over TCP, as the program's clients
        rc, out = sh(
            c,
            "psql -h 127.0.0.1 -U agentos -d postgres -v ON_ERROR_STOP=1 -At <<'EOF'\n" + PG_SQL + "EOF",
            env={"PGPASSWORD": "s3cret-pw"},
        )
        expect(
            rc == 0 and '"b"' in out and "age=1.5.0" in out and "vector=0.8.0" in out,
            "AGE graph + vector",
            out,
        )
        rc, out = sh(c, "psql -h 127.0.0.1 -U agentos -d postgres -c 'select 1'", env={"PGPASSWORD": "wrong"})
        expect(rc != 0 and "password authentication failed" in out, "wrong password refused", out)
        rc, out = sh(c, "cat /proc/1/status")
        expect("Uid:\t999\t999" in out, "server runs as postgres (999)", out)
    finally:
        c.remove(force=True, v=True)


def check_caddy(client: docker.DockerClient, image: str, scratch: Path) -> None:
    c = client.containers.run(
        image,
        ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
        detach=True,
        cap_drop=["ALL"],
        cap_add=["NET_BIND_SERVICE"],
    )
    try:
        wait_until(c, "wget -q -O /dev/null http://127.0.0.1:2019/config/", 30, "caddy admin /config/")
        rc, out = sh(c, "wget -q -O - http://127.0.0.1:80/")
        expect(rc == 0 and "works" in out, "caddy serves :80 as root with only NET_BIND_SERVICE", out)
    finally:
        c.remove(force=True, v=True)


def check_openbao(client: docker.DockerClient, image: str, scratch: Path) -> None:
    c = client.containers.run(image, detach=True)
    try:
        wait_until(
            c, "wget -q -O /dev/null http://127.0.0.1:8200/v1/sys/health", 30, "bao -dev /v1/sys/health"
        )
        print("  ok: default CMD (server -dev) answers /v1/sys/health")
    finally:
        c.remove(force=True, v=True)
    (scratch / "server.hcl").write_text(BAO_HCL)
    (scratch / "seal").write_text("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")  # 32 bytes, base64
    for f in ("server.hcl", "seal"):
        (scratch / f).chmod(0o444)
    c = client.containers.run(
        image,
        ["server"],
        detach=True,
        hostname="bao-1",
        cap_drop=["ALL"],
        cap_add=PG_CAPS,
        environment={"SKIP_SETCAP": "true", "BAO_ADDR": "http://127.0.0.1:8200"},
        volumes={
            str(scratch / "server.hcl"): {"bind": "/openbao/config/server.hcl", "mode": "ro"},
            str(scratch / "seal"): {"bind": "/run/secrets/openbao_seal_key", "mode": "ro"},
        },
    )
    try:
        wait_until(c, f"wget -q -O /dev/null '{BAO_HEALTH}'", 60, "bao server (program's health URL)")
        rc, out = sh(c, "bao operator init -recovery-shares=1 -recovery-threshold=1 -format=json")
        expect(rc == 0 and "root_token" in out, "operator init (static seal)", out)
        c.restart(timeout=30)
        wait_until(c, "bao status >/dev/null", 60, "unsealed after restart")
        rc, out = sh(c, "stat -c %U /openbao/file/vault.db")
        expect(out.startswith("openbao"), "raft data owned by openbao, auto-unsealed after restart", out)
    finally:
        c.remove(force=True, v=True)


def check_agent_utilities(client: docker.DockerClient, image: str, scratch: Path) -> None:
    for cmd in (
        "id -u",
        "python -m agent_utilities --help",
        "graph-os --help",
        "epistemic-graph-server --help",
    ):
        out = run_once(client, image, ["sh", "-c", cmd])
        expect(out.strip() == "10001" if cmd == "id -u" else "usage" in out.lower(), cmd, out)


def check_epistemic_graph(client: docker.DockerClient, image: str, scratch: Path) -> None:
    out = run_once(client, image, ["epistemic-graph-server", "--help"])
    expect("Usage: epistemic-graph-server" in out, "epistemic-graph-server --help", out)


def check_keycloak(client: docker.DockerClient, image: str, scratch: Path) -> None:
    c = client.containers.run(
        image,
        ["start-dev"],
        detach=True,
        environment={
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
            "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin-pw",
            "KC_HEALTH_ENABLED": "true",
            "KC_METRICS_ENABLED": "true",
        },
    )
    try:
        wait_until(c, ["bash", "-c", KC_READY], 300, "keycloak /health/ready on 9000 (program's probe)")
        print("  ok: management port 9000 /health/ready is 200")
        probe = "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /realms/master/.well-known/openid-configuration HTTP/1.0\\r\\nHost: localhost:8080\\r\\n\\r\\n' >&3 && cat <&3"
        _, out = sh(c, ["bash", "-c", probe])
        expect(
            " 200" in out.splitlines()[0] if out else False,
            "8080 master realm OIDC discovery answers 200",
            out,
        )
    finally:
        c.remove(force=True, v=True)


def check_kafka(client: docker.DockerClient, image: str, scratch: Path) -> None:
    """One broker with broker_env() of the staging config on a fresh volume, then kafka-init's
    own script (read-only root, /tmp tmpfs, user 1000:1000) from a second container; one
    message through kg_tasks; a broker restart keeps the formatted log dir and the message."""
    k = KAFKA_STAGING
    bin_dir = program_kafka.BIN
    host = program_kafka.broker_name(1)  # the advertised and voter host name
    bs = f"{host}:{program_kafka.CLIENT_PORT}"
    suffix = uuid.uuid4().hex[:8]
    out = run_once(client, image, ["id", "-u"])
    expect(out.strip() == "1000", "image default user is 1000 (appuser)", out)
    (scratch / "topics.txt").write_text(program_kafka.topics_file(k))
    (scratch / "kafka-init.sh").write_text(program_kafka.init_script(bs))
    for f in ("topics.txt", "kafka-init.sh"):
        (scratch / f).chmod(0o444)
    net = client.networks.create(f"check-kafka-{suffix}", driver="bridge")
    vol = client.volumes.create(f"check-kafka-{suffix}-data")
    made: list[Container] = []
    try:
        broker = client.containers.create(
            image, environment=program_kafka.broker_env(k, 1), user=KAFKA_USER,
            name=f"check-kafka-1-{suffix}", volumes={vol.name: {"bind": "/var/lib/kafka/data", "mode": "rw"}},
        )  # fmt: skip
        made.append(broker)
        net.connect(broker, aliases=[host])
        broker.start()
        wait_until(broker, KAFKA_HEALTH, 240, "broker answers API requests")
        print("  ok: broker healthcheck passes (broker_env, user 1000:1000, fresh volume)")
        init = client.containers.create(
            image, ["/bin/sh", "/etc/agent-os/kafka-init.sh"], user=KAFKA_USER, read_only=True,
            tmpfs={"/tmp": "size=16m"}, name=f"check-kafka-init-{suffix}",
            volumes={
                str(scratch / "topics.txt"): {"bind": program_kafka.TOPICS_FILE, "mode": "ro"},
                str(scratch / "kafka-init.sh"): {"bind": "/etc/agent-os/kafka-init.sh", "mode": "ro"},
            },
        )  # fmt: skip
        made.append(init)
        net.connect(init)
        init.start()
        wait_until(init, "test -f /tmp/topics-ready", 300, "kafka-init topics-ready (program's script)")
        rc, out = sh(init, f"{bin_dir}/kafka-topics.sh --bootstrap-server {bs} --describe --topic kg_tasks")
        parts = k.partitions.kg_tasks
        expect(
            rc == 0 and f"PartitionCount: {parts}" in out and "retention.ms=259200000" in out,
            f"kafka-init (read-only root, user 1000) created kg_tasks: {parts} partitions (staging's), retention.ms",
            out,
        )
        msg = f"agent-os-check-{suffix}"
        produce = f"echo {msg} | {bin_dir}/kafka-console-producer.sh --bootstrap-server {bs} --topic kg_tasks"
        rc, out = sh(init, produce)
        expect(rc == 0, "produced one message to kg_tasks", out)
        consume = (
            f"{bin_dir}/kafka-console-consumer.sh --bootstrap-server {bs} --topic kg_tasks "
            "--from-beginning --max-messages 1 --timeout-ms 60000"
        )
        rc, out = sh(init, consume)
        expect(rc == 0 and msg in out, "consumed it back from kg_tasks", out)
        rc, out = sh(broker, "cat /var/lib/kafka/data/meta.properties")
        expect(
            f"cluster.id={k.cluster_id}" in out and "node.id=1" in out,
            "log dir formatted with the program's CLUSTER_ID and node id",
            out,
        )
        broker.restart(timeout=60)
        wait_until(broker, KAFKA_HEALTH, 240, "broker answers API requests after restart")
        rc, out = sh(init, consume)
        expect(rc == 0 and msg in out, "restart: already-formatted volume reused, message still there", out)
    finally:
        for c in made:
            c.remove(force=True, v=True)
        vol.remove(force=True)
        net.remove()


@dataclass(frozen=True)
class Rendered:
    """Stands where the program hands a spec function a Swarm config or secret: the file's
    content, which `service_container` writes where the spec mounts that object."""

    content: str


def _swarm_object(content: str) -> Any:
    """A Rendered, typed as the docker.ServiceConfig / docker.Secret the spec functions take."""
    return Rendered(content)


# The fleet events token and Alertmanager's Keycloak client secret (Swarm secrets in the
# program; any value here), and the access token the stub token endpoint hands out.
EVENTS_TOKEN = "check-fleet-events-token-7f3a"
CLIENT_SECRET = "check-alertmanager-client-secret-5c1e"
ACCESS_TOKEN = "check-access-token-91d2"
# The staging stack's plan: placements and what the layers hand Prometheus and Alertmanager.
STAGING_PLAN: StackPlan = stack_plan(STAGING)


def fleet_events_webhook() -> str:
    """The one webhook among the stack's telemetry (what components/core/lgtm.py renders)."""
    (webhook,) = [t.webhook for t in STAGING_PLAN.telemetry if t.webhook]
    return webhook


def alertmanager_token_client() -> lgtm_config.TokenClient | None:
    """The client Alertmanager fetches its webhook token with (as components/core/layer.py)."""
    if STAGING_PLAN.core.keycloak is None:
        return None
    core = CorePlatform.on(Platform.of(STAGING, {}), STAGING.core, STAGING.integrations)
    return token_client(core, ALERTMANAGER_CLIENT)


def lgtm_spec(name: str) -> ServiceSpec:
    """The staging stack's spec of one LGTM service: the program's spec function with the
    plan's placement, its config files from the program's renderers over the plan's
    telemetry (shards' and fleet's), wired as components/core/lgtm.py wires them."""
    cfg = STAGING
    lg = cfg.core.lgtm
    lgtm = STAGING_PLAN.core.lgtm
    if lgtm is None:
        raise CheckError("the staging stack has no LGTM")
    platform = Platform.of(cfg, {})
    telemetry = STAGING_PLAN.telemetry
    if name == "prometheus":
        rules = [*lgtm_config.core_rules(lg), *(r for t in telemetry for r in t.rules)]
        yml = lgtm_config.render_prometheus(lg, platform.namespace, [lgtm_config.SD_LAYER.value], telemetry)
        rules_yml = lgtm_config.render_rules(rules)
        return prometheus_spec(platform, lg, _swarm_object(yml), _swarm_object(rules_yml), lgtm.prometheus)
    if name == "alertmanager":
        token = alertmanager_token_client()
        am_yml = lgtm_config.render_alertmanager(fleet_events_webhook(), token)
        secret = _swarm_object(CLIENT_SECRET) if token else None
        return alertmanager_spec(
            platform, lg, _swarm_object(am_yml), _swarm_object(EVENTS_TOKEN), secret, lgtm.alertmanager
        )
    if name == "node-exporter":
        return node_exporter_spec(platform, lg, lgtm.node_exporter)
    raise KeyError(name)


def mounted_content(spec: ServiceSpec, target: str) -> str:
    """The Rendered content `spec` mounts at `target` (a config or secret file)."""
    for f in (*spec.configs, *spec.secrets):
        obj = f.config if isinstance(f, ConfigFile) else f.secret
        if f.target == target and isinstance(obj, Rendered):
            return obj.content
    raise CheckError(f"{spec.name} mounts no rendered file at {target}")


def health_command(spec: ServiceSpec) -> list[str]:
    """The spec's healthcheck as the engine runs it in the task (CMD-SHELL: /bin/sh -c)."""
    kind, *test = spec.health.test
    return ["/bin/sh", "-c", test[0]] if kind == "CMD-SHELL" else test


def health_port(spec: ServiceSpec) -> int:
    """The port of the spec's HTTP healthcheck (HealthCheck.wget's URL)."""
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", spec.health.test[-1])
    if m is None:
        raise CheckError(f"{spec.name}: no HTTP healthcheck: {spec.health.test}")
    return int(m.group(1))


@contextmanager
def service_container(
    client: docker.DockerClient, image: str, spec: ServiceSpec, scratch: Path, aliases: tuple[str, ...] = ()
) -> Iterator[Container]:
    """One task of `spec`, started as the engine starts it from what the program declares:
    command (entrypoint) and args, user, env, capabilities, init, read-only root, hostname,
    memory and CPU limits; a fresh named volume per volume mount (filled from the image, as
    Swarm's are), the bind mounts, each config and secret file with its Rendered content,
    owner and mode, the tmpfs mounts. On a bridge network of its own, reachable there as the
    service name and `aliases`. Removed with its network and volumes afterwards."""
    suffix = uuid.uuid4().hex[:8]
    files = scratch / f"{spec.name}-files"
    files.mkdir(exist_ok=True)
    volumes = [client.volumes.create(f"check-{v.source}-{suffix}") for v in spec.volumes]
    mounts = [
        Mount(v.target, vol.name, type="volume", read_only=v.read_only)
        for v, vol in zip(spec.volumes, volumes, strict=True)
    ]
    mounts += [Mount(b.target, b.source, type="bind", read_only=b.read_only) for b in spec.binds]
    placed: list[ConfigFile | SecretFile] = [*spec.configs, *spec.secrets]
    for i, f in enumerate(placed):
        obj = f.config if isinstance(f, ConfigFile) else f.secret
        if not isinstance(obj, Rendered):
            raise CheckError(f"{spec.name}: {f.target} has no Rendered content")
        path = files / f"{i}-{Path(f.target).name}"
        path.write_text(obj.content)
        os.chown(path, int(f.uid), int(f.gid))
        path.chmod(f.mode)
        mounts.append(Mount(f.target, str(path), type="bind", read_only=True))
    env: dict[str, str] = {}
    for k, v in spec.env.items():
        if not isinstance(v, str):
            raise CheckError(f"{spec.name}: env {k} is not plain text")
        env[k] = v
    net = client.networks.create(f"check-{spec.name}-{suffix}", driver="bridge")
    c: Container | None = None
    try:
        c = client.containers.create(
            image, list(spec.args) or None, entrypoint=list(spec.command) or None, user=spec.user or "",
            environment=env, cap_drop=list(spec.cap_drop) or None, cap_add=list(spec.cap_add) or None,
            init=spec.init, read_only=spec.read_only, hostname=spec.hostname,
            mem_limit=spec.resources.memory_bytes, nano_cpus=spec.resources.nano_cpus, mounts=mounts,
            tmpfs={t.target: f"size={t.size_bytes},mode={t.mode:o}" for t in spec.tmpfs},
            name=f"check-{spec.name}-{suffix}",
        )  # fmt: skip
        net.connect(c, aliases=[spec.name, *aliases])
        c.start()
        yield c
    finally:
        if c is not None:
            c.remove(force=True, v=True)
        net.remove()
        for vol in volumes:
            vol.remove(force=True)


def http_get(c: Container, port: int, path: str) -> str:
    """GET with the image's own wget (as the healthchecks): the body, or CheckError."""
    rc, out = sh(c, ["wget", "-q", "-O", "-", f"http://127.0.0.1:{port}{path}"])
    if rc != 0:
        raise CheckError(f"GET :{port}{path} failed (exit {rc}): {out[-1000:]}")
    return out


def prom_api(c: Container, path: str) -> Any:
    """The `data` of a Prometheus HTTP API answer."""
    doc = json.loads(http_get(c, PROMETHEUS_PORT, path))
    if doc.get("status") != "success":
        raise CheckError(f"Prometheus {path}: {doc}")
    return doc["data"]


def prom_value(c: Container, expr: str) -> float:
    """The value of an instant query with one result (NaN with none)."""
    result = prom_api(c, "/api/v1/query?query=" + urllib.parse.quote(expr))["result"]
    return float(result[0]["value"][1]) if len(result) == 1 else math.nan


def metric(text: str, name: str, labels: str) -> float:
    """The value of the exposition-format sample `name{...labels...}` in `text` (NaN if none)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and labels in line.partition("}")[0]:
            return float(line.rpartition(" ")[2])
    return math.nan


def wait_for(c: Container, probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c.reload()
        if c.status != "running":
            raise CheckError(f"{what}: container exited; logs:\n{c.logs(tail=30).decode(errors='replace')}")
        with suppress(CheckError):
            if probe():
                print(f"  ok: {what}")
                return
        time.sleep(2)
    raise CheckError(f"{what}: not within {timeout:.0f}s; logs:\n{c.logs(tail=30).decode(errors='replace')}")


def process_uid(c: Container, comm: str) -> str:
    """The real uid of the container's process named `comm` (under the program's init)."""
    script = f'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = {comm} ] && grep ^Uid: $p/status; done; true'
    rc, out = sh(c, script)
    fields = out.split()
    return fields[1] if rc == 0 and len(fields) > 1 else f"? ({out.strip()})"


def run_prometheus(client: docker.DockerClient, image: str, scratch: Path, spec: ServiceSpec) -> None:
    """`spec` on a fresh volume: ready by its healthcheck; the program's rules all loaded;
    every static scrape job of the program's prometheus.yml active and the self-scrape up;
    Swarm SD reads the bound Docker socket; a restart replays the TSDB from the volume."""
    config_file = next(a.partition("=")[2] for a in spec.args if a.startswith("--config.file="))
    config = yaml.safe_load(mounted_content(spec, config_file))
    rules = yaml.safe_load(mounted_content(spec, lgtm_config.RULES_FILE))
    want_rules = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    static_jobs = {j["job_name"] for j in config["scrape_configs"] if "static_configs" in j}
    with service_container(client, image, spec, scratch) as c:
        wait_until(c, health_command(spec), 120, f"prometheus as user {spec.user}: the program's healthcheck")
        print(f"  ok: ready by the program's healthcheck ({spec.health.test[-1]})")
        uid = process_uid(c, "prometheus")
        expect(uid == (spec.user or "").split(":")[0], f"prometheus runs as uid {uid} (the spec's user)", uid)
        groups = prom_api(c, "/api/v1/rules")["groups"]
        loaded = {r["name"] for g in groups for r in g["rules"]}
        expect(loaded == want_rules, f"the program's {len(want_rules)} alert rules loaded", str(loaded))

        def pools() -> set[str]:
            return {t["scrapePool"] for t in prom_api(c, "/api/v1/targets")["activeTargets"]}

        wait_for(c, lambda: static_jobs <= pools(), 60, f"static scrape jobs active: {sorted(static_jobs)}")
        wait_for(
            c, lambda: prom_value(c, 'up{job="prometheus"}') == 1, 90, "self-scrape up{job=prometheus} == 1"
        )

        def sd(name: str) -> float:
            return metric(http_get(c, PROMETHEUS_PORT, "/metrics"), name, 'mechanism="dockerswarm"')

        # Swarm SD through the bound socket: refreshed with no failure on a swarm manager;
        # elsewhere the engine's own "not a swarm manager" answer is the failure.
        refreshed = "Swarm SD refreshed through the bound Docker socket"
        wait_for(c, lambda: sd("prometheus_sd_refresh_duration_seconds_count") >= 1, 60, refreshed)
        failures = sd("prometheus_sd_refresh_failures_total")
        swarm = client.info().get("Swarm", {})
        manager = swarm.get("LocalNodeState") == "active" and bool(swarm.get("ControlAvailable"))
        logs = c.logs().decode(errors="replace")
        expect(
            failures == 0 if manager else failures >= 1 and "not a swarm manager" in logs,
            f"Swarm SD answered by the engine (swarm manager: {manager}, failures: {failures:.0f})",
            "\n".join(ln for ln in logs.splitlines() if "dockerswarm" in ln),
        )
        # A self-scrape's time before the restart: after it, an instant query at that time
        # (5m lookback, nothing later) finds a sample only if the TSDB came back from the
        # volume. The latest sample's own timestamp (a subquery could still be empty).
        wait_for(
            c,
            lambda: not math.isnan(prom_value(c, 'timestamp(up{job="prometheus"})')),
            60,
            "a self-scrape sample with its timestamp",
        )
        first = prom_value(c, 'timestamp(up{job="prometheus"})')
        c.restart(timeout=60)
        wait_until(c, health_command(spec), 120, "prometheus ready after restart")
        kept = prom_api(c, f"/api/v1/query?time={first}&query=" + urllib.parse.quote('up{job="prometheus"}'))
        expect(
            len(kept["result"]) == 1,
            f"restart: the sample of {first:.0f} read back from the volume",
            str(kept),
        )


def check_prometheus(client: docker.DockerClient, image: str, scratch: Path) -> None:
    """The program's Prometheus as it declares it (user 0:65534: the group writes the
    nobody-owned volume; as 0:0 with every capability dropped it panicked on
    /prometheus/queries.active, which this check found)."""
    run_prometheus(client, image, scratch, lgtm_spec("prometheus"))


def http_handler(log: str, body: str = "") -> str:
    """One HTTP request per connection (busybox nc -ll -e): request line, headers and body
    appended to `log`, then 200 with `body` (JSON)."""
    return f"""\
#!/bin/sh
cr=$(printf '\\r')
len=0
while IFS= read -r line; do
  line=${{line%"$cr"}}
  echo "$line" >> {log}
  case "$line" in
    [Cc]ontent-[Ll]ength:*) len=${{line#*:}}; len=${{len# }} ;;
    "") break ;;
  esac
done
head -c "$len" >> {log}
echo >> {log}
body='{body}'
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' "${{#body}}" "$body"
"""


def listen(c: Container, port: int, script: str, handler: str) -> None:
    """`handler` (a shell script) answering every connection to `port` in `c`."""
    rc, out = sh(c, f"cat > {script} <<'EOF'\n{handler}EOF\nchmod 755 {script}")
    expect(rc == 0, f"listener script {script} in place", out)
    c.exec_run(["busybox", "nc", "-ll", "-p", str(port), "-e", script], detach=True)


def check_alertmanager(client: docker.DockerClient, image: str, scratch: Path) -> None:
    """The program's Alertmanager on a fresh volume, as the image's user: ready by its
    healthcheck, then one alert posted reaches the program's fleet events webhook URL with
    the token header read from the secret file and a bearer token it fetched from the
    program's token URL with its client id and the secret file's client secret (listeners
    in the container answer as the URLs' hosts, after the program's group_wait)."""
    spec = lgtm_spec("alertmanager")
    url = urllib.parse.urlsplit(fleet_events_webhook())
    oauth = alertmanager_token_client()
    if oauth is None:
        raise CheckError("the staging stack has no Keycloak: Alertmanager fetches no token")
    token_url = urllib.parse.urlsplit(oauth.token_url)
    for u in (url, token_url):
        if u.hostname is None or u.port is None:
            raise CheckError(f"URL {u.geturl()} has no host:port")
    assert url.hostname and url.port and token_url.hostname and token_url.port  # (for the type checker)
    port = health_port(spec)
    aliases = (url.hostname, token_url.hostname)
    with service_container(client, image, spec, scratch, aliases=aliases) as c:
        wait_until(c, health_command(spec), 60, "alertmanager: the program's healthcheck")
        print(f"  ok: ready by the program's healthcheck ({spec.health.test[-1]})")
        uid = process_uid(c, "alertmanager")
        expect(uid == lgtm_config.NOBODY, f"alertmanager runs as uid {uid} (nobody, the image's user)", uid)
        status = json.loads(http_get(c, port, "/api/v2/status"))
        loaded = status["config"]["original"]  # (the API masks the webhook URL as <secret>)
        expect(
            "- name: fleet-events" in loaded
            and lgtm_config.EVENTS_TOKEN_FILE in loaded
            and lgtm_config.CLIENT_SECRET_FILE in loaded,
            "the program's alertmanager.yml loaded (fleet-events receiver, token header and client secret files)",
            loaded,
        )
        listen(c, url.port, "/tmp/webhook.sh", http_handler("/tmp/webhook.txt"))
        grant = json.dumps({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300})
        listen(c, token_url.port, "/tmp/token.sh", http_handler("/tmp/token.txt", grant))
        alert = json.dumps([{"labels": {"alertname": "AgentOsCheck", "job": "check"}}])
        rc, out = sh(
            c,
            ["wget", "-q", "-O", "-", "--header", "Content-Type: application/json", "--post-data", alert,
             f"http://127.0.0.1:{port}/api/v2/alerts"],
        )  # fmt: skip
        expect(rc == 0, "POST /api/v2/alerts accepted one alert", out)
        wait_until(c, "grep -q AgentOsCheck /tmp/webhook.txt", 120, "alertmanager called the webhook")
        _, out = sh(c, "cat /tmp/webhook.txt")
        lines = out.splitlines()
        expect(
            out.startswith(f"POST {url.path}?{url.query} HTTP/1.1")
            and f"X-Fleet-Events-Token: {EVENTS_TOKEN}" in lines
            and f"Authorization: Bearer {ACCESS_TOKEN}" in lines,
            f"webhook: POST {url.path}?{url.query} with X-Fleet-Events-Token from the secret file "
            "and the bearer token from the token endpoint",
            out,
        )
        _, out = sh(c, "cat /tmp/token.txt")
        basic = base64.b64encode(f"{oauth.client_id}:{CLIENT_SECRET}".encode()).decode()
        expect(
            out.startswith(f"POST {token_url.path} HTTP/1.1")
            and f"Authorization: Basic {basic}" in out.splitlines()
            and "grant_type=client_credentials" in out,
            f"token: POST {token_url.path}, client credentials of {oauth.client_id} with the secret file's secret",
            out,
        )


def check_node_exporter(client: docker.DockerClient, image: str, scratch: Path) -> None:
    """The program's node-exporter (host / bound at /host), as the image's user: healthy by
    its healthcheck; filesystems reported as the host names them, without the excluded ones."""
    spec = lgtm_spec("node-exporter")
    port = health_port(spec)
    with service_container(client, image, spec, scratch) as c:
        wait_until(c, health_command(spec), 60, "node-exporter: the program's healthcheck")
        print(f"  ok: healthy by the program's healthcheck ({spec.health.test[-1]})")
        uid = process_uid(c, "node_exporter")
        expect(uid == lgtm_config.NOBODY, f"node_exporter runs as uid {uid} (nobody, the image's user)", uid)
        metrics = http_get(c, port, "/metrics")
        expect("node_exporter_build_info{" in metrics, "node_exporter_build_info exported", metrics[:2000])
        points = set(re.findall(r'^node_filesystem_size_bytes\{[^}]*mountpoint="([^"]*)"', metrics, re.M))
        rootfs = next(a.partition("=")[2] for a in spec.args if a.startswith("--path.rootfs="))
        exclude = next(
            a.partition("=")[2]
            for a in spec.args
            if a.startswith("--collector.filesystem.mount-points-exclude=")
        )
        excluded = [p for p in points if re.match(exclude, p) or p.startswith(rootfs + "/")]
        expect(
            "/" in points and not excluded,
            f"host filesystems under --path.rootfs={rootfs}, the program's exclusions out: {sorted(points)}",
            f"excluded ones reported: {excluded}",
        )
        expect("node_load1 " in metrics and "node_memory_MemTotal_bytes " in metrics, "load and memory", "")
        expect('collector="systemd"' not in metrics, "upstream's default collectors (no systemd)", "")


def _rpc_result(body: str) -> dict[str, object]:
    """The JSON-RPC `result` of a streamable-http answer (JSON, or one SSE `data:` event)."""
    for text in (body, *(ln[5:] for ln in body.splitlines() if ln.startswith("data:"))):
        try:
            msg = json.loads(text)
        except ValueError:
            continue
        if isinstance(msg, dict) and isinstance(msg.get("result"), dict):
            return msg["result"]
    return {}


def serve_connector(
    client: docker.DockerClient, image: str, conn: Connector, auth: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Run `conn` as connector_spec() does with `auth` (mcp_auth), wait for the program's TCP
    healthcheck, then MCP_PROBE in the container; its results by request."""
    env = {"HOST": "0.0.0.0", "PORT": str(conn.port), "TRANSPORT": program_connectors.TRANSPORT, **auth}
    c = client.containers.run(
        image, [conn.console_script], detach=True, environment=env, tmpfs={TMP: "size=128m"}
    )
    try:
        health = list(program_connectors.tcp_health(conn.port).test[1:])
        wait_until(
            c, health, 180, f"AUTH_TYPE={auth['AUTH_TYPE']}: TCP {conn.port} (the program's healthcheck)"
        )
        probe_env = {
            "PROBE_PORT": str(conn.port),
            "PROBE_JWKS_PORT": str(MCP_JWKS_PORT),
            "PROBE_ISSUER": MCP_ISSUER,
            "PROBE_AUDIENCE": MCP_AUDIENCE,
            **({"PROBE_JWT": "1"} if auth["AUTH_TYPE"] == "jwt" else {}),
        }
        rc, out = sh(c, ["python", "-c", MCP_PROBE], env=probe_env)
        line = next((ln for ln in out.splitlines() if ln.startswith("PROBE ")), None)
        if rc != 0 or line is None:
            raise CheckError(f"MCP probe failed (exit {rc}):\n{out[-3000:]}")
        results: dict[str, dict[str, str]] = json.loads(line[len("PROBE ") :])
        return results
    finally:
        c.remove(force=True, v=True)


def connector_check(conn: Connector) -> Callable[[docker.DockerClient, str, Path], None]:
    """The program's run of one connector (console script, streamable-http on its port), with
    AUTH_TYPE=none and with AUTH_TYPE=jwt against a JWKS served in the container."""

    def check(client: docker.DockerClient, image: str, scratch: Path) -> None:
        out = run_once(client, image, ["sh", "-c", f"command -v {conn.console_script}"])
        expect(
            out.strip().endswith(f"/bin/{conn.console_script}"), f"console script {conn.console_script}", out
        )
        r = serve_connector(client, image, conn, {"AUTH_TYPE": "none"})
        status = {k: int(v["status"]) for k, v in r.items()}
        info = _rpc_result(r["init"]["body"]).get("serverInfo")
        expect(status["health"] == 200, f"AUTH_TYPE=none: GET /health {status['health']}", json.dumps(r))
        expect(
            status["init"] == 200 and isinstance(info, dict),
            f"AUTH_TYPE=none: POST /mcp initialize {status['init']}, serverInfo {info}",
            json.dumps(r),
        )
        r = serve_connector(client, image, conn, MCP_JWT_AUTH)
        status = {k: int(v["status"]) for k, v in r.items()}
        expect(
            status["health"] == 200,
            f"AUTH_TYPE=jwt: GET /health {status['health']} without a token",
            json.dumps(r),
        )
        expect(
            status["init"] == 401,
            f"AUTH_TYPE=jwt: initialize {status['init']} without a token",
            json.dumps(r),
        )
        expect(
            status["init_token"] == 200 and "serverInfo" in _rpc_result(r["init_token"]["body"]),
            f"AUTH_TYPE=jwt: initialize {status['init_token']} with a token from the JWKS",
            json.dumps(r),
        )
        expect(
            status["init_wrong_audience"] == 401,
            f"AUTH_TYPE=jwt: initialize {status['init_wrong_audience']} with another audience",
            json.dumps(r),
        )

    return check


def check_socat(client: docker.DockerClient, image: str, scratch: Path) -> None:
    """As the admin tunnel runs it (components/data/postgres.py admin_tunnel): the image's
    entrypoint is socat, the args a listen address and a target, read-only root, no
    capabilities. The target here is an echo on the same container's loopback."""
    echo = client.containers.run(
        image,
        ["TCP-LISTEN:7000,fork,reuseaddr", "EXEC:/bin/cat"],
        detach=True,
        cap_drop=["ALL"],
        read_only=True,
    )
    try:
        echo.reload()
        ip = echo.attrs["NetworkSettings"]["IPAddress"]
        tunnel = client.containers.run(
            image,
            ["TCP-LISTEN:15432,fork,reuseaddr", f"TCP:{ip}:7000"],
            detach=True,
            cap_drop=["ALL"],
            read_only=True,
        )
        try:
            deadline = time.monotonic() + 20
            out = ""
            while time.monotonic() < deadline:
                rc, out = sh(
                    tunnel, ["sh", "-c", "echo through-the-tunnel | socat -t 2 - TCP:127.0.0.1:15432"]
                )
                if rc == 0 and "through-the-tunnel" in out:
                    break
                time.sleep(0.5)
            expect(
                "through-the-tunnel" in out,
                "socat relays a listen port to its target, read-only, no caps",
                out,
            )
        finally:
            tunnel.remove(force=True, v=True)
    finally:
        echo.remove(force=True, v=True)


CHECKS: dict[str, Callable[[docker.DockerClient, str, Path], None]] = {
    "postgres": check_postgres,
    "caddy": check_caddy,
    "openbao": check_openbao,
    "agent-utilities": check_agent_utilities,
    "epistemic-graph": check_epistemic_graph,
    "keycloak": check_keycloak,
    "kafka": check_kafka,
    "prometheus": check_prometheus,
    "alertmanager": check_alertmanager,
    "node-exporter": check_node_exporter,
    "socat": check_socat,
    **{c.name: connector_check(c) for c in CONNECTORS},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"default: every built one of {list(CHECKS)}"
    )
    args = parser.parse_args(argv)
    client = docker.from_env(timeout=300)
    failed = 0
    for name in args.names or list(CHECKS):
        alias = RECIPES[name].alias
        try:
            client.images.get(alias)
        except ImageNotFound:
            print(f"{name}: {alias} not built; skipped")
            continue
        print(f"{name}: checking {alias}", flush=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"check-{name}-"))
        t0 = time.monotonic()
        try:
            CHECKS[name](client, alias, scratch)
            print(f"{name}: passed in {time.monotonic() - t0:.1f}s", flush=True)
        except (CheckError, DockerException) as e:
            failed += 1
            print(f"{name}: FAILED: {e}", file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
