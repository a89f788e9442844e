"""The hardened service model and the edge + data layers, asserted on registered inputs."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import STACKS, evaluate
from tools import mockrun
from tools.graph import Dag

SERVICE = "docker:index/service:Service"
EDGE_SERVICES = {"caddy", "technitium"}


def _spec(svc: mockrun.Registered) -> dict[str, Any]:
    return svc.plain


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True])
def test_both_stacks_evaluate(stack: str, preview: bool) -> None:
    run = evaluate(stack, preview)
    assert len(run.services()) >= 5


def test_enterprise_registers_edge_and_data_services(enterprise: mockrun.Run) -> None:
    services = enterprise.services()
    for name in ("caddy", "technitium", "pg-age", "kafka-1", "kafka-2", "kafka-3"):
        assert name in services, name
    net_ids = {f"{n.name}-id" for n in enterprise.by_type("docker:index/network:Network")}
    overlay = {
        n.name for n in enterprise.by_type("docker:index/network:Network") if n.inputs["driver"] == "overlay"
    }
    assert len(overlay) == len(net_ids)
    for name in ("caddy", "technitium", "pg-age", "kafka-1", "kafka-2", "kafka-3"):
        attached = [n["id"] for n in _spec(services[name])["taskSpec"]["networksAdvanceds"]]
        assert attached and set(attached) <= net_ids, name


def test_staging_has_one_broker(staging: mockrun.Run) -> None:
    assert {n for n in staging.services() if n.startswith("kafka-") and n[6:].isdigit()} == {"kafka-1"}


def test_every_service_is_hardened(stack_run: mockrun.Run) -> None:
    for name, svc in stack_run.services().items():
        s = _spec(svc)
        ts = s["taskSpec"]
        assert s["name"] == name == svc.name
        hc = ts["containerSpec"]["healthcheck"]
        assert hc["tests"] and hc["tests"][0] in ("CMD", "CMD-SHELL"), name
        assert ts["resources"]["limits"]["memoryBytes"] > 0, name
        assert ts["restartPolicy"]["condition"] == "any", name
        assert s["updateConfig"]["failureAction"] == "rollback", name
        assert s["rollbackConfig"]["order"] == s["updateConfig"]["order"], name
        assert "ALL" in ts["containerSpec"]["capDrops"], name
        labels = {x["label"]: x["value"] for x in s["labels"]}
        assert labels["com.docker.stack.namespace"] == "agent-os", name
        assert ts["logDriver"]["options"]["max-size"] == "10m", name
        mode = s["mode"]
        assert ("global" in mode) != ("replicated" in mode), name


def test_only_edge_services_publish_ports_in_host_mode(stack_run: mockrun.Run) -> None:
    publishing = {n for n, s in stack_run.services().items() if _spec(s)["endpointSpec"].get("ports")}
    assert publishing == EDGE_SERVICES
    for n in publishing:
        for p in _spec(stack_run.services()[n])["endpointSpec"]["ports"]:
            assert p["publishMode"] == "host"


def test_caddy_publishes_80_443_and_technitium_53_both_protocols(enterprise: mockrun.Run) -> None:
    def ports(n: str) -> set[tuple[int, str]]:
        spec = _spec(enterprise.services()[n])
        return {(p["publishedPort"], p["protocol"]) for p in spec["endpointSpec"]["ports"]}

    assert ports("caddy") == {(80, "tcp"), (443, "tcp"), (443, "udp")}
    assert ports("technitium") == {(53, "udp"), (53, "tcp")}


@pytest.mark.parametrize(("stack", "mode"), [("staging", "dnsrr"), ("enterprise", "vip")])
def test_endpoint_mode_is_chosen_per_stack(stack: str, mode: str) -> None:
    for svc in evaluate(stack).services().values():
        assert _spec(svc)["endpointSpec"]["mode"] == mode


def test_update_order_matches_statefulness(enterprise: mockrun.Run) -> None:
    order = {n: _spec(s)["updateConfig"]["order"] for n, s in enterprise.services().items()}
    for stateful in ("pg-age", "kafka-1", "kafka-2", "kafka-3", "technitium", "caddy"):
        assert order[stateful] == "stop-first", stateful
    assert order["kafka-init"] == "start-first"


def test_stateful_members_are_pinned_with_a_volume(enterprise: mockrun.Run) -> None:
    svcs = enterprise.services()
    expect = {"pg-age": "node.labels.postgres==true", "kafka-2": "node.labels.kafka-broker==2"}
    for name, constraint in expect.items():
        ts = _spec(svcs[name])["taskSpec"]
        assert constraint in ts["placement"]["constraints"]
        assert any(m["type"] == "volume" for m in ts["containerSpec"]["mounts"])
        assert _spec(svcs[name])["mode"]["replicated"]["replicas"] == 1


def test_postgres_runs_age_and_reads_password_from_a_secret_file(stack_run: mockrun.Run) -> None:
    pg = _spec(stack_run.services()["pg-age"])
    cs = pg["taskSpec"]["containerSpec"]
    assert "shared_preload_libraries=age" in cs["args"]
    assert cs["image"].startswith("agent-os/postgres-age-pgvector:")  # images/: AGE + pgvector
    path = cs["env"]["POSTGRES_PASSWORD_FILE"]
    assert "POSTGRES_PASSWORD" not in cs["env"]
    assert [s["fileName"] for s in cs["secrets"]] == [path]
    assert cs["secrets"][0]["fileMode"] == 0o400


def test_technitium_password_is_a_secret_file(stack_run: mockrun.Run) -> None:
    cs = _spec(stack_run.services()["technitium"])["taskSpec"]["containerSpec"]
    assert cs["env"]["DNS_SERVER_ADMIN_PASSWORD_FILE"] in [s["fileName"] for s in cs["secrets"]]


def test_kafka_brokers_advertise_their_own_stable_name(enterprise: mockrun.Run) -> None:
    voters = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    for n in (1, 2, 3):
        env = _spec(enterprise.services()[f"kafka-{n}"])["taskSpec"]["containerSpec"]["env"]
        assert env["KAFKA_NODE_ID"] == str(n)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://kafka-{n}:9092"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


@pytest.mark.parametrize(("stack", "rf", "kg_parts"), [("staging", 1, 6), ("enterprise", 3, 6)])
def test_topics_with_partitions_from_config_and_rf_min_3_brokers(stack: str, rf: int, kg_parts: int) -> None:
    run = evaluate(stack)
    topics_cfg = run.one("docker:index/serviceConfig:ServiceConfig", "kafka-topics")
    lines = {ln.split()[0]: ln.split() for ln in mockrun.b64decode(topics_cfg.inputs["data"]).splitlines()}
    assert set(lines) == {"kg_tasks", "kg_staging", "agent_turns"}
    assert lines["kg_tasks"][1] == str(kg_parts)
    assert {v[2] for v in lines.values()} == {str(rf)}


def test_configs_are_named_by_content_hash(stack_run: mockrun.Run) -> None:
    configs = stack_run.by_type("docker:index/serviceConfig:ServiceConfig")
    assert configs
    for c in configs:
        raw = base64.b64decode(c.inputs["data"])
        assert c.inputs["name"].endswith("-" + hashlib.sha256(raw).hexdigest()[:12]), c.name


def test_secrets_are_named_by_content_hash_and_stay_secret(stack_run: mockrun.Run) -> None:
    for s in stack_run.by_type("docker:index/secret:Secret"):
        assert mockrun.is_secret(s.inputs["data"]) and mockrun.is_secret(s.inputs["name"])
        raw = base64.b64decode(s.plain["data"])
        assert s.plain["name"].endswith("-" + hashlib.sha256(raw).hexdigest()[:12])


def test_networks_are_encrypted_overlays(stack_run: mockrun.Run) -> None:
    for n in stack_run.by_type("docker:index/network:Network"):
        assert n.inputs["driver"] == "overlay"
        assert n.inputs["options"]["encrypted"] == "true"


def test_enterprise_subnets_from_config(enterprise: mockrun.Run) -> None:
    edge = enterprise.one("docker:index/network:Network", "net-edge")
    assert edge.inputs["ipamConfigs"] == [{"subnet": "10.210.0.0/24"}]


def test_registry_mirror_rewrites_every_image(run_with: Callable[..., mockrun.Run]) -> None:
    run = run_with(
        "staging",
        overrides={"agent-os:images": {"mirror": "registry.internal:5000", "allowLatestConnectors": True}},
    )
    images = [_spec(s)["taskSpec"]["containerSpec"]["image"] for s in run.services().values()]
    assert images and all(i.startswith("registry.internal:5000/") for i in images)
    assert "registry.internal:5000/library/caddy:2.10.2-alpine" in images


def _secret_values(run: mockrun.Run, configured: dict[str, str]) -> set[str]:
    vals = set(configured.values())
    for r in run.by_type("random:index/randomPassword:RandomPassword"):
        vals.add(mockrun.fake_password(r.name, r.inputs.get("length", 32)))
    return vals


def _plain_strings(v: Any) -> list[str]:
    """Every string in the inputs outside a secret wrapper."""
    if mockrun.is_secret(v):
        return []
    if isinstance(v, dict):
        return [s for k, x in v.items() for s in [k, *_plain_strings(x)]]
    if isinstance(v, list):
        return [s for x in v for s in _plain_strings(x)]
    return [v] if isinstance(v, str) else []


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_value_outside_a_secret(stack: str) -> None:
    configured = {"agent-os:grafanaAdminPassword": "configured-grafana-pw-9876"}
    run = mockrun.run(stack, secrets=configured)
    values = _secret_values(run, configured)
    assert len(values) >= 4
    needles = values | {base64.b64encode(v.encode()).decode() for v in values}
    for r in run.resources:
        if r.type == "random:index/randomPassword:RandomPassword":
            continue
        for s in _plain_strings(r.inputs):
            for needle in needles:
                assert needle not in s, f"{r.type} {r.name} leaks a secret in plaintext"


def test_leak_detector_would_catch_a_plain_env_secret() -> None:
    values = {"s3cret-value-123"}
    leaked = {
        "env": {"PW": "s3cret-value-123"},
        "ok": {mockrun.SIG_KEY: mockrun.SECRET_VALUE_SIG, "value": "s3cret-value-123"},
    }
    found = [s for s in _plain_strings(leaked) if any(v in s for v in values)]
    assert found == ["s3cret-value-123"]


def _urn(run: mockrun.Run, type_: str, name: str) -> str:
    return run.one(type_, name).urn


def test_bootstrap_edges(enterprise: mockrun.Run) -> None:
    dag = Dag.of(enterprise)
    svc = lambda n: enterprise.services()[n].urn  # noqa: E731
    gate = _urn(enterprise, "command:local:Command", "postgres-ready")
    provider = _urn(enterprise, "pulumi:providers:postgresql", "postgresql")
    role = _urn(enterprise, "postgresql:index/role:Role", "role-agent")
    dns_gate = _urn(enterprise, "command:local:Command", "dns-api-ready")
    records = _urn(enterprise, "command:local:Command", "dns-records")
    # Postgres -> readiness gate -> provider -> its resources. The admin tunnel starts in
    # parallel with Postgres; the gate waits for both.
    tunnel = _urn(enterprise, "docker:index/container:Container", "pg-admin-tunnel")
    assert gate in dag.deps[provider] and {svc("pg-age"), tunnel} <= dag.deps[gate]
    assert not dag.reaches(svc("pg-age"), tunnel)
    assert dag.reaches(gate, role) and dag.reaches(svc("pg-age"), role)
    # DNS records go through Caddy to Technitium, after both exist and answer.
    assert {svc("caddy"), svc("technitium")} <= dag.deps[dns_gate]
    assert dns_gate in dag.deps[records]
    # Topics after the brokers.
    assert {svc("kafka-1"), svc("kafka-2"), svc("kafka-3")} <= dag.deps[svc("kafka-init")]


def test_independent_resources_are_not_chained(enterprise: mockrun.Run) -> None:
    dag = Dag.of(enterprise)
    s = {n: r.urn for n, r in enterprise.services().items()}
    for a, b in [
        ("kafka-1", "kafka-2"),
        ("kafka-2", "kafka-3"),
        ("pg-age", "kafka-1"),
        ("caddy", "technitium"),
        ("caddy", "pg-age"),
    ]:
        assert not dag.reaches(s[a], s[b]) and not dag.reaches(s[b], s[a]), (a, b)


def test_providers_are_explicit_everywhere(stack_run: mockrun.Run) -> None:
    for r in stack_run.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            assert r.provider, f"{r.type} {r.name} uses a default provider"


def test_postgres_provider_is_configured_from_preview_known_values() -> None:
    run = evaluate("staging", preview=True)
    p = run.one("pulumi:providers:postgresql", "postgresql")
    assert p.inputs["host"] == "127.0.0.1" and p.inputs["port"] in (15432, "15432")
    assert mockrun.UNKNOWN not in str(p.inputs["host"])


def test_databases_roles_extensions_and_graph(stack_run: mockrun.Run) -> None:
    dbs = {r.inputs["name"] for r in stack_run.by_type("postgresql:index/database:Database")}
    assert dbs == {"agent_kg", "agent_state", "keycloak"}  # keycloak: core layer's own database
    exts = {
        (r.inputs["name"], r.inputs["database"])
        for r in stack_run.by_type("postgresql:index/extension:Extension")
    }
    assert exts == {("age", "template1"), ("vector", "agent_kg")}  # every database copies age from template1
    role = stack_run.one("postgresql:index/role:Role", "role-agent")
    assert role.inputs["login"] is True and mockrun.is_secret(role.inputs["password"])
    graph = stack_run.one("command:local:Command", "age-graph")
    assert "create_graph('agent_graph')" in graph.inputs["environment"]["AGENT_OS_SQL"]
    assert mockrun.is_secret(graph.inputs["environment"]["PGPASSWORD"])


def test_caddyfile_routes_every_host_with_tls_internal(stack_run: mockrun.Run) -> None:
    cf = mockrun.b64decode(
        stack_run.one("docker:index/serviceConfig:ServiceConfig", "caddyfile").inputs["data"]
    )
    urls = stack_run.outputs["urls"]
    assert "dns" in urls
    for host, url in urls.items():
        fqdn = url.removeprefix("https://")
        block = cf.split(fqdn + " {", 1)[1].split("\n}", 1)[0]
        assert "tls internal" in block, host
        assert "reverse_proxy" in block, host


def test_dns_record_for_every_routed_host_and_ingress_address(enterprise: mockrun.Run) -> None:
    import json

    cmd = enterprise.one("command:local:Command", "dns-records")
    records = json.loads(cmd.inputs["environment"]["DNS_RECORDS"])
    fqdns = {u.removeprefix("https://") for u in enterprise.outputs["urls"].values()}
    assert {(r["name"], r["ip"]) for r in records} == {
        (f, ip) for f in fqdns for ip in ("10.40.0.21", "10.40.0.22")
    }
    assert mockrun.is_secret(cmd.inputs["environment"]["DNS_API_PASSWORD"])


def test_no_input_carries_this_checkouts_path(stack_run: mockrun.Run) -> None:
    # Inputs must not depend on where the repository is checked out: a CI preview and the
    # operator's `up` would otherwise disagree, and every move would show an update.
    where = str(mockrun.PROJECT_DIR)
    found = [f"{r.type}:{r.name}" for r in stack_run.resources if where in json.dumps(r.plain)]
    assert found == []
