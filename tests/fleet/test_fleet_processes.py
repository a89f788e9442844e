"""The agent-utilities processes, the UIs, rung (e) autonomy, and the entrypoint that
exports Docker secret files to env for the app."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config.fleet import APPROVAL_REQUIRED_ACTIONS
from components.config.resources import Resources
from components.config.swarm import Layer
from components.model import Placement
from components.swarm import HealthCheck, ServiceSpec
from components.swarm.entrypoint import SCRIPT
from tests.conftest import STACKS, WEBUI_IMAGE, evaluate, evaluate_with_webui
from tests.fleet.fleethelp import container, labels, mounted_config, mounted_secret
from tools import mockrun

APP = ("agent-gateway", "kg-daemon", "graph-os", "kg-ingest-worker", "agent-dispatch-worker")


def _svc(run: mockrun.Run, name: str) -> dict[str, Any]:
    return run.services()[name].plain


def _config(run: mockrun.Run, name: str) -> dict[str, Any]:
    return json.loads(mounted_config(run, name, "/etc/agent-utilities/config.json"))


@pytest.mark.parametrize("stack", STACKS)
def test_exactly_one_kg_host_daemon(stack: str) -> None:
    run = evaluate(stack)
    hosts = []
    for name in run.services():
        cs = container(run, name)
        env = cs.get("env") or {}
        mounted = [c for c in cs.get("configs") or [] if c["fileName"] == "/etc/agent-utilities/config.json"]
        role = env.get("KG_DAEMON_ROLE") or (_config(run, name)["kg_daemon_role"] if mounted else None)
        if role == "host":
            hosts.append(name)
    assert hosts == ["kg-daemon"]
    d = _svc(run, "kg-daemon")
    assert d["mode"]["replicated"]["replicas"] == 1
    assert d["updateConfig"]["order"] == d["rollbackConfig"]["order"] == "stop-first"
    placement = d["taskSpec"]["placement"]
    assert placement["constraints"] == ["node.labels.kg-daemon==true"] and placement["maxReplicas"] == 1
    mounts = {m["target"]: m for m in d["taskSpec"]["containerSpec"]["mounts"]}
    assert mounts["/var/lib/agent-utilities"]["type"] == "volume"
    env = container(run, "kg-daemon")["env"]
    assert env["AGENT_UTILITIES_DATA_DIR"] == "/var/lib/agent-utilities" and env["GATEWAY_WORKERS"] == "1"
    # Its kg-ingest pool by config, not by the node's cores and memory (the app's autosize).
    assert env["KG_INGESTION_WORKERS"] == "1"
    # HOME too: the app writes ~/.agents (its governance loop), and the root is read-only.
    assert env["HOME"] == "/var/lib/agent-utilities"
    for name in APP[2:]:
        assert container(run, name)["env"]["HOME"] == "/tmp/agent-utilities", name
    for name in APP[2:]:
        assert container(run, name)["env"]["KG_DAEMON_ROLE"] == "client", name


def test_a_second_host_daemon_cannot_be_specified() -> None:
    with pytest.raises(ValueError, match="stateful member runs one replica"):
        ServiceSpec(
            placement=Placement("kg-daemon", Layer.AGENTS, replicas=2),
            image="x",
            health=HealthCheck.tcp(1),
            resources=Resources(),
            networks=(),
            stateful=True,
        )


def test_kg_daemon_replicas_are_not_configurable(run_with: Callable[..., mockrun.Run]) -> None:
    with pytest.raises(Exception, match="kgDaemonReplicas"):
        run_with("staging", overrides={"agent-os:fleet": {"kgDaemonReplicas": 2}})


@pytest.mark.parametrize(("stack", "replicas", "workers"), [("staging", 1, "2"), ("enterprise", 3, "4")])
def test_gateway_is_replicated_with_workers_health_and_metrics_labels(
    stack: str, replicas: int, workers: str
) -> None:
    run = evaluate(stack)
    g = _svc(run, "agent-gateway")
    assert g["mode"]["replicated"]["replicas"] == replicas
    assert g["updateConfig"]["order"] == "start-first"
    cs = g["taskSpec"]["containerSpec"]
    assert cs["env"]["GATEWAY_WORKERS"] == workers
    assert cs["env"]["HOST"] == "0.0.0.0" and cs["env"]["PORT"] == "9000"
    assert cs["args"] == ["python", "-m", "agent_utilities"]
    assert "127.0.0.1:9000/health'" in " ".join(cs["healthcheck"]["tests"])
    assert cs["user"] == "10001:10001" and cs["readOnly"] is True
    lab = labels(run, "agent-gateway")
    assert lab["agent-os.metrics.job"] == "agent-gateway" and lab["agent-os.metrics.port"] == "9000"
    nets = {n["id"] for n in g["taskSpec"]["networksAdvanceds"]}
    assert {"net-edge-id", "net-agents-id", "net-data-id", "net-core-id"} <= nets


def test_caddy_balances_gateways_with_active_health_checks(enterprise: mockrun.Run) -> None:
    cf = mockrun.b64decode(
        enterprise.one("docker:index/serviceConfig:ServiceConfig", "caddyfile").inputs["data"]
    )
    block = cf.split("gateway.agents.arpa {", 1)[1].split("\n}", 1)[0]
    assert "reverse_proxy agent-gateway:9000 {" in block
    assert "health_uri /health" in block
    gos = cf.split("graph-os.agents.arpa {", 1)[1].split("\n}", 1)[0]
    assert "reverse_proxy graph-os:8004" in gos
    assert "fleet" not in enterprise.outputs["urls"]  # the Fleet Supervisor is off by default
    assert evaluate_with_webui("enterprise").outputs["urls"]["fleet"] == "https://fleet.agents.arpa"


def test_graph_os_serves_streamable_http(staging: mockrun.Run) -> None:
    cs = container(staging, "graph-os")
    assert cs["args"] == ["graph-os", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8004"]
    assert cs["env"]["TRANSPORT"] == "streamable-http" and cs["env"]["HOST"] == "0.0.0.0"
    assert cs["env"]["PORT"] == "8004" and cs["env"]["AUTH_TYPE"] == "jwt"
    assert "127.0.0.1:8004/health'" in " ".join(cs["healthcheck"]["tests"])


def test_worker_fleets_follow_config_then_capacity(
    run_with: Callable[..., mockrun.Run], staging: mockrun.Run
) -> None:
    for name in ("kg-ingest-worker", "agent-dispatch-worker"):
        assert _svc(staging, name)["mode"]["replicated"]["replicas"] == 1
    # 50k residents -> 1,000 active -> 40 workers, 1 engine shard (platform.md §13); explicit wins.
    run = run_with(
        "staging",
        overrides={
            "agent-os:capacity": {"residents": 50_000},
            "agent-os:fleet": {
                "profile": "single-node-prod",
                "dispatchWorkers": {"replicas": 5, "processes": 4},
            },
        },
    )
    assert _svc(run, "kg-ingest-worker")["mode"]["replicated"]["replicas"] == 40
    d = _svc(run, "agent-dispatch-worker")
    assert d["mode"]["replicated"]["replicas"] == 5
    assert d["taskSpec"]["containerSpec"]["args"] == ["agent-dispatch-worker", "--workers", "4"]


def test_inline_dispatch_deploys_no_dispatch_workers(run_with: Callable[..., mockrun.Run]) -> None:
    run = run_with("staging", overrides={"agent-os:app": {"agentDispatchBackend": "inline"}})
    assert "agent-dispatch-worker" not in run.services()
    assert _config(run, "agent-gateway")["agent_dispatch_backend"] == "inline"


def test_webui_oidc_clients_from_core(enterprise: mockrun.Run) -> None:
    assert "agent-terminal-ui" not in enterprise.services()  # off by default (no credentials)
    enterprise = evaluate_with_webui("enterprise")
    env = container(enterprise, "agent-webui")["env"]
    assert env["WEBUI_OIDC_CLIENT_ID"] == "agent-webui" and env["OIDC_CLIENT_ID"] == "agent-webui-svc"
    assert env["OIDC_ISSUER"] == "https://sso.agents.arpa/realms/agents"
    assert "OIDC_CLIENT_SECRET=/run/secrets/oidc_client_secret" in env["SECRETS_TO_ENV"]
    secret, value = mounted_secret(enterprise, "agent-webui", "/run/secrets/oidc_client_secret")
    assert container(enterprise, "agent-webui")["image"] == WEBUI_IMAGE
    assert mockrun.is_secret(secret.inputs["data"]) and value == mockrun.fake_password(
        "webuiSvcClientSecret", 40
    )


def test_geniusbot_profile_output(enterprise: mockrun.Run) -> None:
    assert enterprise.outputs["geniusbot"] == {
        "gatewayUrl": "https://gateway.agents.arpa",
        "mcpUrl": "https://graph-os.agents.arpa/mcp",
        "issuer": "https://sso.agents.arpa/realms/agents",
        "clientId": "geniusbot",  # its own public client with a loopback redirect
        "audience": "agent-utilities",
        "fleetSupervisorUrl": None,  # the Fleet Supervisor is off by default
    }


# ---- rung (e): inert by default ----


@pytest.mark.parametrize("stack", STACKS)
def test_autonomy_is_inert_by_default(stack: str) -> None:
    run = evaluate(stack)
    env = container(run, "kg-daemon")["env"]
    assert env["FLEET_RECONCILER"] == "false" and env["FLEET_AUTOSCALER"] == "false"
    assert env["FLEET_ACTUATOR"] == "dryrun"
    assert env["SCALING_PROMETHEUS_URL"].startswith("http://prometheus:9090")
    for name in ("agent-gateway", "graph-os", "kg-ingest-worker"):
        assert not any(
            k.startswith(("FLEET_RECONCILER", "FLEET_ACTUATOR")) for k in container(run, name)["env"]
        )
    mounts = container(run, "kg-daemon")["mounts"]
    assert not any(m["type"] == "bind" for m in mounts)


@pytest.mark.parametrize("stack", STACKS)
def test_action_policy_queues_every_mutating_action(stack: str) -> None:
    run = evaluate(stack)
    doc = yaml.safe_load(mounted_config(run, "kg-daemon", "/etc/agent-utilities/action-policy.yml"))
    assert doc["defaults"] == {
        "tier": "approval_required",
        "rate_limit": {"max": 3, "window_s": 3600},
        "blast_radius": {"max_targets": 3, "window_s": 3600},
    }
    tiers = {r["kind"]: r["tier"] for r in doc["rules"]}
    for action in ("restart_service", "scale_service", "deploy_service", "secret.set", "config.set"):
        assert tiers[action] == "approval_required", action
    assert set(APPROVAL_REQUIRED_ACTIONS) <= set(tiers)
    assert {t for k, t in tiers.items() if k in APPROVAL_REQUIRED_ACTIONS} == {"approval_required"}
    assert _config(run, "agent-gateway")["action_policy_path"] == "/etc/agent-utilities/action-policy.yml"


def test_action_policy_from_stack_config(run_with: Callable[..., mockrun.Run]) -> None:
    policy = {
        "tier": "forbidden",
        "rules": [{"kind": "scale_service", "target": "*-mcp", "tier": "auto_notify"}],
    }
    run = run_with(
        "staging",
        overrides={"agent-os:fleet": {"profile": "single-node-prod", "autonomy": {"actionPolicy": policy}}},
    )
    doc = yaml.safe_load(mounted_config(run, "kg-daemon", "/etc/agent-utilities/action-policy.yml"))
    assert doc["defaults"]["tier"] == "forbidden"
    assert doc["rules"] == [{"kind": "scale_service", "target": "*-mcp", "tier": "auto_notify"}]


def test_docker_actuator_needs_the_socket(run_with: Callable[..., mockrun.Run]) -> None:
    with pytest.raises(pulumi.RunError, match=r"agent-os:fleet\.autonomy\.dockerSocket"):
        run_with(
            "staging",
            overrides={"agent-os:fleet": {"profile": "single-node-prod", "autonomy": {"actuator": "docker"}}},
        )


def test_docker_actuator_mounts_the_socket_on_the_daemon_and_says_so(
    run_with: Callable[..., mockrun.Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda msg, *a, **k: warned.append(msg))
    autonomy = {
        "actuator": "docker",
        "dockerSocket": "/var/run/docker.sock",
        "dockerSocketGid": 998,
        "reconciler": True,
    }
    run = run_with(
        "staging", overrides={"agent-os:fleet": {"profile": "single-node-prod", "autonomy": autonomy}}
    )
    d = _svc(run, "kg-daemon")["taskSpec"]
    binds = [m for m in d["containerSpec"]["mounts"] if m["type"] == "bind"]
    assert binds == [
        {
            "type": "bind",
            "source": "/var/run/docker.sock",
            "target": "/var/run/docker.sock",
            "readOnly": False,
        }
    ]
    assert "node.role==manager" in d["placement"]["constraints"]
    assert d["containerSpec"]["user"] == "10001:998"
    assert (
        d["containerSpec"]["env"]["FLEET_ACTUATOR"] == "docker"
        and d["containerSpec"]["env"]["FLEET_RECONCILER"] == "true"
    )
    assert any("mounting /var/run/docker.sock into kg-daemon" in w for w in warned)
    for name in (*APP[:1], *APP[2:], "caddy-mcp", "vector-mcp"):
        mounts = container(run, name).get("mounts") or []
        assert not any(m["type"] == "bind" for m in mounts), name


def test_approle_credentials_are_the_core_layers_secrets(enterprise: mockrun.Run) -> None:
    secret, value = mounted_secret(enterprise, "agent-gateway", "/run/secrets/vault_secret_id")
    assert value == mockrun.fake_password("openbaoAgentSecretId", 40)
    assert secret.parent.endswith("agent-os:core:Core::core")  # one Docker secret per value
    env = container(enterprise, "graph-os")["env"]["SECRETS_TO_ENV"]
    assert (
        "VAULT_ROLE_ID=/run/secrets/vault_role_id" in env
        and "VAULT_SECRET_ID=/run/secrets/vault_secret_id" in env
    )


def test_events_token_reaches_the_processes_serving_fleet_events_only(enterprise: mockrun.Run) -> None:
    # Both the gateway and the host daemon serve POST /api/fleet/events.
    for name in ("agent-gateway", "kg-daemon"):
        secret, value = mounted_secret(enterprise, name, "/run/secrets/fleet_events_token")
        assert mockrun.is_secret(secret.inputs["data"])
        assert value == mockrun.fake_password("fleetEventsToken", 40)
    for name in ("graph-os", "kg-ingest-worker"):
        assert "FLEET_EVENTS_TOKEN" not in container(enterprise, name)["env"]["SECRETS_TO_ENV"]


# ---- the entrypoint the app needs (it does not read /run/secrets itself) ----


@pytest.mark.parametrize("name", APP)
def test_app_processes_start_through_with_secrets(enterprise: mockrun.Run, name: str) -> None:
    cs = container(enterprise, name)
    assert cs["commands"] == ["/bin/sh", "/usr/local/bin/with-secrets"]
    exported = dict(s.split("=", 1) for s in cs["env"]["SECRETS_TO_ENV"].split(","))
    mounted = {s["fileName"]: s for s in cs["secrets"]}
    assert set(exported.values()) == set(mounted)
    assert {
        "STATE_DB_URI",
        "GRAPH_DB_URI",
        "GRAPH_SERVICE_AUTH_SECRET",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
    } <= set(exported)
    assert all(s["fileUid"] == "10001" and s["fileMode"] == 0o400 for s in mounted.values())
    assert "/usr/local/bin/with-secrets" in {c["fileName"] for c in cs["configs"]}
    assert not any(k in cs["env"] for k in exported)  # values only ever come from files


def test_with_secrets_exports_the_dsn_and_execs_the_program(tmp_path: Path) -> None:
    script = tmp_path / "with-secrets"
    script.write_text(SCRIPT)
    dsn = tmp_path / "state_db_uri"
    dsn.write_text("postgresql://agent:p%40ss@pg-age:5432/agent_state")
    env = {"PATH": "/usr/bin:/bin", "SECRETS_TO_ENV": f"STATE_DB_URI={dsn}"}
    out = subprocess.run(
        ["/bin/sh", str(script), "/bin/sh", "-c", 'printf %s "$STATE_DB_URI"; [ -z "${SECRETS_TO_ENV:-}" ]'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == "postgresql://agent:p%40ss@pg-age:5432/agent_state"
    missing = subprocess.run(
        ["/bin/sh", str(script), "true"],
        env={**env, "SECRETS_TO_ENV": f"STATE_DB_URI={tmp_path}/absent"},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 78 and "STATE_DB_URI: secret file" in missing.stderr


def test_clients_start_after_engines_topics_schema_and_realm(enterprise: mockrun.Run) -> None:
    from tools.graph import Dag

    dag = Dag.of(enterprise)
    s = {n: r.urn for n, r in enterprise.services().items()}
    role = enterprise.one("postgresql:index/role:Role", "role-agent").urn
    for client in ("agent-gateway", "kg-daemon", "kg-ingest-worker"):
        deps = dag.deps[s[client]]
        assert {s["kafka-init"], s["kg-shard-1"], s["kg-shard-3"], role} <= deps, client
    # Connectors and tier processes are independent of each other: created in parallel.
    for a, b in [("caddy-mcp", "vector-mcp"), ("caddy-mcp", "agent-gateway"), ("agent-gateway", "kg-daemon")]:
        assert not dag.reaches(s[a], s[b]) and not dag.reaches(s[b], s[a]), (a, b)


@pytest.mark.parametrize("stack", STACKS)
def test_every_app_process_scaffolds_its_workspace_where_it_can_write(stack: str) -> None:
    """agent-utilities 0.52.0's server scaffolds its agent workspace at start
    (core/workspace.py initialize_workspace): in `WORKSPACE_PATH`, else in its own package
    directory, which the read-only root refuses (OSError EROFS: the gateway and kg-daemon
    never started in the deployed stack). Its session store makes `AGENT_WORKSPACE`, else
    ./workspace in the read-only home (core/sessions.py, the next EROFS). Each app process names a workspace on a writable
    mount: its tmpfs, or its data volume (the daemon keeps its workspace across restarts)."""
    run = evaluate(stack)
    checked = 0
    for name in run.services():
        cs = container(run, name)
        if "agent-utilities" not in cs["image"]:
            continue
        writable = [m["target"] for m in cs.get("mounts", []) if m["type"] in ("tmpfs", "volume")]
        workspace = cs["env"].get("WORKSPACE_PATH", "")
        assert cs["env"].get("AGENT_WORKSPACE") == workspace, name
        assert cs.get("readOnly") is True, name
        assert any(workspace.startswith(f"{t}/") for t in writable), (name, workspace, writable)
        checked += 1
    assert checked >= 5
    assert container(run, "kg-daemon")["env"]["WORKSPACE_PATH"].startswith("/var/lib/agent-utilities/")
