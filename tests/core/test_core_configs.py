"""Every rendered core config, parsed back and checked against what the services mount."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import hcl2
import pytest

from tests.conftest import STACKS, evaluate
from tests.core.helpers import CONFIG, config_id_of, config_text, config_yaml, container, secret_targets, task
from tests.fleet.fleethelp import mounted_secret
from tools import mockrun


def _hcl(text: str) -> dict[str, Any]:
    return hcl2.loads(text)  # type: ignore[no-any-return]


def _unq(s: Any) -> Any:
    return s.strip('"') if isinstance(s, str) else s


def _block(doc: dict[str, Any], kind: str, label: str) -> dict[str, Any]:
    for item in doc[kind]:
        for k, v in item.items():
            if _unq(k) == label:
                return v
    raise LookupError(f"{kind} {label}")


@pytest.mark.parametrize(("stack", "members"), [("staging", 1), ("enterprise", 3)])
def test_openbao_hcl_parses_with_raft_peers_and_static_seal(stack: str, members: int) -> None:
    run = evaluate(stack)
    names = [f"bao-{n}" for n in range(1, members + 1)]
    assert {n for n in run.services() if n.startswith("bao-")} == set(names)
    for name in names:
        doc = _hcl(config_text(run, f"openbao-{name}"))
        raft = _block(doc, "storage", "raft")
        assert _unq(raft["node_id"]) == name
        assert _unq(raft["path"]) == "/openbao/file"
        joins = {_unq(j["leader_api_addr"]) for j in raft.get("retry_join", [])}
        assert joins == {f"http://{p}:8200" for p in names if p != name}
        seal = _block(doc, "seal", "static")
        key_file = _unq(seal["current_key"]).removeprefix("file://")
        assert key_file in secret_targets(run, name)
        assert _unq(doc["api_addr"]) == f"http://{name}:8200"
        listener = _block(doc, "listener", "tcp")
        assert _unq(listener["address"]) == "0.0.0.0:8200"
        # The service mounts exactly this config into the entrypoint's config dir.
        cfg = run.one(CONFIG, f"openbao-{name}")
        assert config_id_of(run, name, "/openbao/config/server.hcl") == cfg.id


def test_openbao_members_are_pinned_stateful_and_not_in_dev_mode(enterprise: mockrun.Run) -> None:
    for n in (1, 2, 3):
        svc = enterprise.services()[f"bao-{n}"].plain
        cs = svc["taskSpec"]["containerSpec"]
        assert cs["args"] == ["server"], "the image's default CMD is `server -dev`"
        assert f"node.labels.openbao=={n}" in svc["taskSpec"]["placement"]["constraints"]
        assert svc["updateConfig"]["order"] == "stop-first"
        assert [m["source"] for m in cs["mounts"] if m["type"] == "volume"] == [f"agent-os-bao-{n}-data"]


def test_openbao_seal_key_is_a_32_byte_key_in_a_secret(staging: mockrun.Run) -> None:
    import base64

    s = staging.one("docker:index/secret:Secret", "openbao-seal-key")
    assert mockrun.is_secret(s.inputs["data"])
    key = base64.b64decode(base64.b64decode(s.plain["data"]))
    assert len(key) == 32


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_jobs_cover_exporters_gateway_sd_and_every_shard(stack: str) -> None:
    run = evaluate(stack)
    prom = config_yaml(run, "prometheus-yml")
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert {"cadvisor", "node-exporter", "swarm-core", "prometheus"} <= set(jobs)
    assert not [j for j in jobs if j.startswith("swarm-") and j != "swarm-core"]  # one target per task
    assert jobs["cadvisor"]["dns_sd_configs"][0]["names"] == ["tasks.cadvisor"]
    assert jobs["node-exporter"]["dns_sd_configs"][0]["names"] == ["tasks.node-exporter"]
    sd = jobs["swarm-core"]
    assert sd["dockerswarm_sd_configs"][0]["role"] == "tasks"
    keeps = {
        tuple(r["source_labels"]): r["regex"] for r in sd["relabel_configs"] if r.get("action") == "keep"
    }
    assert keeps[("__meta_dockerswarm_service_label_agent_os_metrics_job",)] == ".+"
    assert keeps[("__meta_dockerswarm_network_name",)] == "agent-os-core"
    # Every gateway replica: the gateway service carries the SD labels and joins that overlay.
    gw = run.services()["agent-gateway"].plain
    labels = {x["label"]: x["value"] for x in gw["labels"]}
    assert labels["agent-os.metrics.job"] == "agent-gateway" and labels["agent-os.metrics.port"] == "9000"
    assert "net-core-id" in {n["id"] for n in gw["taskSpec"]["networksAdvanceds"]}
    # Every engine shard metrics port, from the shards layer's telemetry seam.
    shard_jobs = {n: j for n, j in jobs.items() if n.startswith("kg-shard-")}
    shards = {n for n in run.services() if n.startswith("kg-shard-")}
    assert set(shard_jobs) == shards and shards
    for name, job in shard_jobs.items():
        assert job["static_configs"][0]["targets"][0].startswith(f"{name}:")
    assert prom["rule_files"] == ["/etc/prometheus/rules/agent-os.rules.yml"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    # Prometheus joins the overlays it scrapes and mounts both files.
    assert (
        config_id_of(run, "prometheus", "/etc/prometheus/prometheus.yml")
        == run.one(CONFIG, "prometheus-yml").id
    )
    assert config_id_of(run, "prometheus", prom["rule_files"][0]) == run.one(CONFIG, "prometheus-rules").id
    nets = {n["id"] for n in task(run, "prometheus")["networksAdvanceds"]}
    assert {"net-core-id", "net-agents-id", "net-fleet-id"} <= nets


def test_alert_rules_are_valid_yaml_with_required_alerts(stack_run: mockrun.Run) -> None:
    rules = config_yaml(stack_run, "prometheus-rules")
    by_name = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert by_name["EngineShardDown"]["expr"] == "agent_utilities_engine_shard_up == 0"
    assert 'outcome="short_circuited"' in by_name["GatewayBreakerOpen"]["expr"]
    assert by_name["DispatchQueueDepthHigh"]["expr"].endswith("> 500")
    assert "agent_utilities_kg_ingest_consumer_lag" in by_name["IngestConsumerLagHigh"]["expr"]
    # The shards' own rules are merged in.
    assert any(a.startswith("EngineShard") and a != "EngineShardDown" for a in by_name)
    for r in by_name.values():
        assert r["labels"]["severity"] in {"critical", "error", "warning", "info"}


def test_alertmanager_posts_to_fleet_events_with_token_header_from_a_secret_file(
    stack_run: mockrun.Run,
) -> None:
    am = config_yaml(stack_run, "alertmanager-yml")
    assert am["route"]["receiver"] == "fleet-events"
    (receiver,) = am["receivers"]
    (hook,) = receiver["webhook_configs"]
    assert hook["url"] == "http://agent-gateway:9000/api/fleet/events?source=alertmanager"
    header = hook["http_config"]["http_headers"]["X-Fleet-Events-Token"]
    assert list(header) == ["files"]  # never an inline value
    (path,) = header["files"]
    assert path in secret_targets(stack_run, "alertmanager")
    nets = {n["id"] for n in task(stack_run, "alertmanager")["networksAdvanceds"]}
    gateway = {n["id"] for n in task(stack_run, "agent-gateway")["networksAdvanceds"]}
    assert nets & gateway  # Alertmanager reaches agent-gateway on a shared overlay


@pytest.mark.parametrize("stack", STACKS)
def test_alertmanager_sends_a_keycloak_token_with_its_fleet_events_posts(stack: str) -> None:
    """The app (kg_auth_required) refuses any request without a JWT before it checks the
    fleet events token: Alertmanager fetches one with its own client's credentials."""
    run = evaluate(stack)
    (hook,) = config_yaml(run, "alertmanager-yml")["receivers"][0]["webhook_configs"]
    http = hook["http_config"]
    assert list(http["http_headers"]) == ["X-Fleet-Events-Token"]  # still sent
    oauth = http["oauth2"]
    assert set(oauth) == {"client_id", "client_secret_file", "token_url"}  # never an inline secret
    client = run.one("keycloak:openid/client:Client", f"client-{oauth['client_id']}")
    # The secret file is a Docker secret mounted in Alertmanager, carrying the client's secret.
    secret, value = mounted_secret(run, "alertmanager", oauth["client_secret_file"])
    assert mockrun.is_secret(secret.inputs["data"]) and mockrun.is_secret(client.inputs["clientSecret"])
    assert value == client.plain["clientSecret"] and len(value) >= 32
    # The realm's token endpoint, in-cluster: Keycloak's HTTP port on a shared overlay.
    url = urllib.parse.urlsplit(oauth["token_url"])
    assert url.scheme == "http" and url.hostname in run.services()
    realm = run.one("keycloak:index/realm:Realm", "realm-agents").inputs["realm"]
    assert url.path == f"/realms/{realm}/protocol/openid-connect/token"
    assert str(url.port) == container(run, url.hostname)["env"]["KC_HTTP_PORT"]
    nets = {n["id"] for n in task(run, "alertmanager")["networksAdvanceds"]}
    assert nets & {n["id"] for n in task(run, url.hostname)["networksAdvanceds"]}
    # The value is in no service spec and no config file, only in its Docker secret.
    for name, svc in run.services().items():
        assert value not in json.dumps(svc.plain), name
    for cfg in run.by_type(CONFIG):
        assert value not in mockrun.b64decode(cfg.inputs["data"]), cfg.name


def test_grafana_datasources_and_sso(stack_run: mockrun.Run) -> None:
    ds = config_yaml(stack_run, "grafana-datasources")
    by_type = {d["type"]: d for d in ds["datasources"]}
    assert by_type["prometheus"]["url"] == "http://prometheus:9090" and by_type["prometheus"]["isDefault"]
    assert by_type["loki"]["url"] == "http://loki:3100"
    assert by_type["tempo"]["url"] == "http://tempo:3200"
    target = "/etc/grafana/provisioning/datasources/agent-os.yaml"
    assert config_id_of(stack_run, "grafana", target) == stack_run.one(CONFIG, "grafana-datasources").id
    env = container(stack_run, "grafana")["env"]
    zone = stack_run.outputs["zone"]
    assert env["GF_AUTH_GENERIC_OAUTH_ENABLED"] == "true"
    assert env["GF_AUTH_GENERIC_OAUTH_CLIENT_ID"] == "grafana"
    assert (
        env["GF_AUTH_GENERIC_OAUTH_AUTH_URL"]
        == f"https://sso.{zone}/realms/agents/protocol/openid-connect/auth"
    )
    assert env["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE"] in secret_targets(stack_run, "grafana")
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] in secret_targets(stack_run, "grafana")
    assert not any(k.endswith("_SECRET") or k.endswith("_PASSWORD") for k in env)


def test_loki_tsdb_v13_and_tempo_otlp(staging: mockrun.Run) -> None:
    loki = config_yaml(staging, "loki-yml")
    (schema,) = loki["schema_config"]["configs"]
    assert (schema["store"], schema["schema"]) == ("tsdb", "v13")
    tempo = config_yaml(staging, "tempo-yml")
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_exporters_are_global(stack_run: mockrun.Run) -> None:
    for name in ("cadvisor", "node-exporter", "portainer-agent"):
        assert stack_run.services()[name].plain["mode"] == {"global": True}, name


def test_caddy_routes_core_uis_and_dns_has_records(stack_run: mockrun.Run) -> None:
    urls = stack_run.outputs["urls"]
    assert {"sso", "openbao", "portainer", "grafana"} <= set(urls)
    cf = config_text(stack_run, "caddyfile")
    zone = stack_run.outputs["zone"]
    assert f"sso.{zone} {{" in cf and "reverse_proxy keycloak:8080" in cf
    members = sorted(n for n in stack_run.services() if n.startswith("bao-"))
    assert "reverse_proxy " + " ".join(f"{m}:8200" for m in members) in cf
    records = stack_run.one("command:local:Command", "dns-records").inputs["environment"]["DNS_RECORDS"]
    for host in ("sso", "openbao", "portainer", "grafana"):
        assert f"{host}.{zone}" in records
    # Routed services are reachable by Caddy on the edge overlay.
    for svc in ("keycloak", "grafana", "portainer", *members):
        assert "net-edge-id" in {n["id"] for n in task(stack_run, svc)["networksAdvanceds"]}, svc


def _listener(stack: str) -> dict[str, object]:
    run = evaluate(stack)
    cfg = run.one("docker:index/serviceConfig:ServiceConfig", "openbao-bao-1")
    doc = hcl2.loads(mockrun.b64decode(cfg.inputs["data"]))
    [block] = doc["listener"]
    # python-hcl2 keeps the quotes of block labels and strings in some versions.
    [(label, body)] = [(k.strip('"'), v) for k, v in block.items()]
    assert label == "tcp"
    return {k: v.strip('"') if isinstance(v, str) else v for k, v in body.items()}


def test_openbao_trusts_x_forwarded_for_only_from_the_edge_overlay() -> None:
    """Caddy connects from the edge overlay; any other task on a shared overlay must not be
    able to claim another client address (audit log, CIDR-bound tokens)."""
    assert _listener("enterprise")["x_forwarded_for_authorized_addrs"] == "10.210.0.0/24"
    assert "x_forwarded_for_authorized_addrs" not in _listener("staging")  # Swarm picks the subnet
