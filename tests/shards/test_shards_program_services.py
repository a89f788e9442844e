"""Engine shard services, the one shared auth secret, and the one endpoint list, asserted on
what the whole program registers under mocks (preview=False)."""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import runpy
from functools import cache
from typing import Any, cast

import pytest

from components.config.resources import Resources
from components.config.swarm import Layer
from components.model import Placement
from components.swarm.entrypoint import SCRIPT, SecretEnv
from components.swarm.spec import HealthCheck, SecretFile, ServiceSpec
from shards.__main__ import main as shards_cli
from shards.deploy import ShardsLayer, _require_auth, shard_spec
from tools import mockrun
from tools.graph import Dag

SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
THREE = ["tcp://kg-shard-1:9101", "tcp://kg-shard-2:9102", "tcp://kg-shard-3:9103"]
AUTH_PATH = "/run/secrets/graph_service_auth_secret"
# Staging's one-node inventory labels only kg-shard=1; multi-shard runs here drop the
# inventory (placement against an inventory is tests/day0's subject).
NO_INVENTORY: dict[str, Any] = {"agent-os:inventory": None}


@cache
def program_run(stack: str, count: int | None) -> tuple[mockrun.Run, ShardsLayer]:
    """Run the real __main__.py and keep its ShardsLayer object."""
    scope: dict[str, Any] = {}

    def program() -> None:
        scope.update(runpy.run_path(str(mockrun.PROJECT_DIR / "__main__.py"), run_name="__main__"))

    overrides = {"agent-os:shards": {"count": count}, **NO_INVENTORY} if count is not None else None
    run = mockrun.run(stack, program=program, overrides=overrides)
    return run, cast(ShardsLayer, scope["shards"])


def shard_services(run: mockrun.Run) -> dict[str, dict[str, Any]]:
    return {n: s.plain for n, s in run.services().items() if n.startswith("kg-shard-")}


def cs(svc: dict[str, Any]) -> dict[str, Any]:
    return svc["taskSpec"]["containerSpec"]


def test_one_service_per_shard_named_as_the_endpoint_host() -> None:
    run, _ = program_run("staging", 3)
    assert sorted(shard_services(run)) == ["kg-shard-1", "kg-shard-2", "kg-shard-3"]
    assert run.outputs["shardEndpoints"] == THREE
    assert run.outputs["shardCount"] == 3 and run.outputs["shardMode"] == "sharded"


def test_staging_runs_one_engine_in_single_mode() -> None:
    run, layer = program_run("staging", None)  # Pulumi.staging.yaml: shards.count 1
    assert sorted(shard_services(run)) == ["kg-shard-1"]
    assert run.outputs["shardEndpoints"] == ["tcp://kg-shard-1:9101"]
    assert run.outputs["shardMode"] == "single" == layer.outputs.mode


@pytest.mark.parametrize("n", [1, 2, 3])
def test_shard_command_args_env_and_entrypoint(n: int) -> None:
    run, _ = program_run("staging", 3)
    c = cs(shard_services(run)[f"kg-shard-{n}"])
    assert c["image"] == "agent-os/epistemic-graph:1.0.0"  # images/epistemic-graph
    # `commands` replaces the image ENTRYPOINT with the wrapper; `args` is the whole command.
    assert c["commands"] == ["/bin/sh", "/usr/local/bin/with-secrets"]
    assert c["args"] == [
        "epistemic-graph-server",
        "--tcp-addr",
        f"0.0.0.0:910{n}",
        "--persist-dir",
        "/var/lib/epistemic-graph/data",
        "--metrics-addr",
        f"0.0.0.0:911{n}",
    ]
    assert c["env"] == {
        "EPISTEMIC_GRAPH_PERSIST_BACKEND": "redb",
        "EPISTEMIC_GRAPH_REQUIRE_VERIFIED_CONTEXT": "1",
        "EPISTEMIC_GRAPH_REQUIRE_SIGNED": "1",
        "EPISTEMIC_GRAPH_RLS_DEFAULT_DENY": "1",
        "SECRETS_TO_ENV": f"GRAPH_SERVICE_AUTH_SECRET={AUTH_PATH}",
    }
    script = run.one(CONFIG, "kg-shards-with-secrets")
    assert mockrun.b64decode(script.inputs["data"]) == SCRIPT
    assert [(x["configId"], x["fileName"], x["fileMode"]) for x in c["configs"]] == [
        (script.id, "/usr/local/bin/with-secrets", 0o555)
    ]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_shard_state_placement_and_hardening(n: int) -> None:
    run, _ = program_run("staging", 3)
    svc = shard_services(run)[f"kg-shard-{n}"]
    ts, c = svc["taskSpec"], cs(svc)
    volumes = [m for m in c["mounts"] if m["type"] == "volume"]
    assert [(m["source"], m["target"]) for m in volumes] == [
        (f"agent-os-kg-shard-{n}-data", "/var/lib/epistemic-graph/data")
    ]
    assert ts["placement"]["constraints"] == [f"node.labels.kg-shard-{n}==true"]
    assert svc["mode"] == {"replicated": {"replicas": 1}}
    assert svc["updateConfig"]["order"] == "stop-first" == svc["rollbackConfig"]["order"]
    assert c["user"] == "10001:10001"
    assert c["readOnly"] is True and c["init"] is True
    assert c["capDrops"] == ["ALL"] and "capAdds" not in c
    tmpfs = [m for m in c["mounts"] if m["type"] == "tmpfs"]
    assert [(m["target"], m["tmpfsOptions"]["sizeBytes"]) for m in tmpfs] == [("/tmp", 64 * 1024**2)]
    assert ts["resources"]["limits"] == {"memoryBytes": 2 * 1024**3, "nanoCpus": 10**9}
    # The engine image is a Python image (python:slim upstream, the build here): no `nc`,
    # so the probe is Python's own connect (with `nc -z` no task ever became healthy).
    assert c["healthcheck"] == {
        "tests": [
            "CMD",
            "python",
            "-c",
            f"import socket;socket.create_connection(('127.0.0.1',910{n}),timeout=5).close()",
        ],
        "interval": "15s",
        "timeout": "5s",
        "retries": 5,
        "startPeriod": "20s",
    }
    assert [x["id"] for x in ts["networksAdvanceds"]] == [
        run.one("docker:index/network:Network", "net-agents").id
    ]
    assert "ports" not in svc["endpointSpec"]


def test_one_auth_secret_mounted_on_every_shard() -> None:
    run, layer = program_run("staging", 3)
    auth = [s for s in run.by_type(SECRET) if s.name == "graph-service-auth-secret"]
    assert len(auth) == 1
    secret = auth[0]
    # Generated once (RandomPassword graphServiceAuthSecret, 48 chars), a Pulumi secret.
    value = mockrun.fake_password("graphServiceAuthSecret", 48)
    assert mockrun.is_secret(secret.inputs["data"])
    assert base64.b64decode(secret.plain["data"]).decode() == value
    for name, svc in shard_services(run).items():
        mounts = cs(svc)["secrets"]
        assert [(m["secretId"], m["secretName"], m["fileName"]) for m in mounts] == [
            (secret.id, secret.plain["name"], AUTH_PATH)
        ], name
        assert (mounts[0]["fileUid"], mounts[0]["fileGid"], mounts[0]["fileMode"]) == (
            "10001",
            "10001",
            0o400,
        )
        assert value not in json.dumps(cs(svc)["env"]), name
    # Clients get the very same object from ShardsOutputs.
    out = layer.outputs
    assert out.auth_secret is layer.auth_secret
    assert out.auth.secret is out.auth_secret
    assert (out.auth.env, out.auth.path) == ("GRAPH_SERVICE_AUTH_SECRET", AUTH_PATH)


def test_configured_auth_secret_is_used_and_stays_secret() -> None:
    run = mockrun.run(
        "staging",
        overrides={"agent-os:shards": {"count": 2}, **NO_INVENTORY},
        secrets={"agent-os:graphServiceAuthSecret": "configured-graph-hmac-31337"},
    )
    (secret,) = [s for s in run.by_type(SECRET) if s.name == "graph-service-auth-secret"]
    assert base64.b64decode(secret.plain["data"]).decode() == "configured-graph-hmac-31337"
    assert secret.plain["name"].endswith(hashlib.sha256(b"configured-graph-hmac-31337").hexdigest()[:12])
    assert not [
        r
        for r in run.by_type("random:index/randomPassword:RandomPassword")
        if r.name == "graphServiceAuthSecret"
    ]


@pytest.mark.parametrize("missing", ["mount", "export", "entrypoint"])
def test_no_shard_spec_without_the_auth_secret(missing: str) -> None:
    # The builder takes the secret as a required argument...
    param = inspect.signature(shard_spec).parameters["auth"]
    assert param.default is inspect.Parameter.empty
    # ...and refuses a spec that would start the engine without it.
    secret = cast(Any, object())
    auth = SecretEnv(env="GRAPH_SERVICE_AUTH_SECRET", secret=secret, file_name="graph_service_auth_secret")
    complete: dict[str, Any] = {
        "command": ("/bin/sh", "/usr/local/bin/with-secrets"),
        "env": {"SECRETS_TO_ENV": f"GRAPH_SERVICE_AUTH_SECRET={AUTH_PATH}"},
        "secrets": (SecretFile(secret=secret, target=AUTH_PATH),),
    }
    common: dict[str, Any] = {
        "placement": Placement("kg-shard-1", Layer.AGENTS),
        "image": "x:1",
        "health": HealthCheck.shell("true"),
        "resources": Resources(),
        "networks": (Layer.AGENTS,),
    }
    _require_auth(ServiceSpec(**common, **complete), auth)  # the complete one passes
    broken = dict(complete)
    broken[{"mount": "secrets", "export": "env", "entrypoint": "command"}[missing]] = (
        {} if missing == "export" else ()
    )
    with pytest.raises(ValueError, match="would start without GRAPH_SERVICE_AUTH_SECRET"):
        _require_auth(ServiceSpec(**common, **broken), auth)


def test_endpoints_are_one_list_everywhere() -> None:
    run, layer = program_run("staging", 3)
    out = layer.outputs
    assert out.endpoints == tuple(THREE)
    assert run.outputs["shardEndpoints"] == list(out.endpoints)
    # GRAPH_SERVICE_ENDPOINTS for clients.
    assert json.loads(out.endpoints_json) == list(out.endpoints)
    # Telemetry: one scrape target and one alert per endpoint, in order.
    tel = out.telemetry
    assert [t.labels["endpoint"] for t in tel.scrape] == list(out.endpoints)
    assert [r.labels["endpoint"] for r in tel.rules] == list(out.endpoints)
    # Service labels.
    labels = {
        n: {x["label"]: x["value"] for x in s["labels"]}["agent-os.shard-endpoint"]
        for n, s in shard_services(run).items()
    }
    assert [labels[f"kg-shard-{n}"] for n in (1, 2, 3)] == list(out.endpoints)
    # Docs: `python -m shards endpoints --count 3` prints the same list.
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        shards_cli(["endpoints", "--count", "3"])
    assert json.loads(buf.getvalue())["endpoints"] == list(out.endpoints)


def test_telemetry_scrapes_every_metrics_port_and_alerts_per_endpoint() -> None:
    _, layer = program_run("staging", 3)
    tel = layer.outputs.telemetry
    assert [(t.job, t.targets) for t in tel.scrape] == [
        ("kg-shard-1", ("kg-shard-1:9111",)),
        ("kg-shard-2", ("kg-shard-2:9112",)),
        ("kg-shard-3", ("kg-shard-3:9113",)),
    ]
    assert [(r.alert, r.expr, r.severity) for r in tel.rules] == [
        (f"EngineShard{n}Down", f'up{{job="kg-shard-{n}"}} == 0', "critical") for n in range(1, 4)
    ]
    assert [r.labels["endpoint"] for r in tel.rules] == list(THREE)
    assert len({r.alert for r in tel.rules}) == len(tel.rules)


def test_shards_do_not_wait_for_each_other() -> None:
    run, _ = program_run("staging", 3)
    dag = Dag.of(run)
    s = {n: r.urn for n, r in run.services().items()}
    for a, b in [("kg-shard-1", "kg-shard-2"), ("kg-shard-2", "kg-shard-3"), ("kg-shard-1", "pg-age")]:
        assert not dag.reaches(s[a], s[b]) and not dag.reaches(s[b], s[a]), (a, b)
