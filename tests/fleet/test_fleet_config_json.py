"""config.json rendered from stack config + lower-layer outputs, compared key by key with
the recipe's enterprise config.json (read from the seed at test time)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import evaluate
from tests.fleet.fleethelp import container, mounted_config, mounted_secret, recipe_config_json
from tools import mockrun

CONFIG_PATH = "/etc/agent-utilities/config.json"
ABSENT = object()

# Per stack: the value each recipe key must have in OUR config.json. A value equal to the
# recipe's is marked SAME; everything else is derived from our layers (or a documented
# decision), with the expected value written out here, not read from the code under test.
SAME = object()


def _expected(stack: str) -> dict[str, Any]:
    zone = {"staging": "staging.agents.arpa", "enterprise": "agents.arpa"}[stack]
    brokers = {"staging": "kafka-1:9092", "enterprise": "kafka-1:9092,kafka-2:9092,kafka-3:9092"}[stack]
    issuer = f"https://sso.{zone}/realms/agents"
    langfuse = stack == "enterprise"
    return {
        # Decision: HEAD aborts boot on graph_backend, the docs disagree on its value, and
        # graph_service_endpoints selects single vs HRW: written only when set.
        "graph_backend": ABSENT,
        # The DSNs embed the app role's password: Docker secret -> env, never config.json.
        "graph_db_uri": ABSENT,
        "state_db_uri": ABSENT,
        "kg_daemon_role": SAME,
        "task_queue_backend": SAME,
        "kafka_bootstrap_servers": brokers,  # data layer
        "agent_dispatch_backend": SAME,
        "secrets_vault_url": "http://openbao:8200",  # core layer (OpenBao: any member, in-cluster)
        "vault_auth_method": SAME,
        "kg_auth_required": SAME,
        # core layer (Keycloak): the realm keys over the overlay; the issuer stays public.
        "auth_jwt_jwks_uri": "http://keycloak:8080/realms/agents/protocol/openid-connect/certs",
        "auth_jwt_issuer": issuer,
        "enable_otel": SAME,
        # Langfuse on (enterprise): from agent-os:app.langfuseHost; off (staging): absent.
        "otel_exporter_otlp_endpoint": "https://langfuse.agents.arpa/api/public/otel" if langfuse else ABSENT,
        "langfuse_host": "https://langfuse.agents.arpa" if langfuse else ABSENT,
    }


def _extra_keys(stack: str) -> set[str]:
    keys = {
        "secrets_backend",
        "secrets_vault_mount",
        "auth_jwt_audience",
        "graph_service_endpoints",
        "action_policy_path",
        "fleet_registry_path",
        "fleet_mcp_url_template",
        # the data layer's topic sizes, so the app never grows the topics kafka-init made
        "kg_tasks_partitions",
        "agent_turns_partitions",
    }
    if stack == "enterprise":
        keys.add("langfuse_capture_content")
    else:
        keys.add("otel_exporter_otlp_traces_endpoint")  # LGTM on, Langfuse off: Tempo
    return keys


def _config(run: mockrun.Run, service: str) -> dict[str, Any]:
    return json.loads(mounted_config(run, service, CONFIG_PATH))


@pytest.mark.parametrize("stack", ["staging", "enterprise"])
def test_config_json_matches_the_recipe_key_by_key(stack: str) -> None:
    recipe = recipe_config_json()
    ours = _config(evaluate(stack), "kg-daemon")  # the host's config.json, as in the recipe
    expected = _expected(stack)
    assert set(expected) == set(recipe), "the recipe's keys changed: review the mapping"
    for key, want in expected.items():
        if want is ABSENT:
            assert key not in ours, key
        elif want is SAME:
            assert ours[key] == recipe[key], key
        else:
            assert ours[key] == want != recipe[key], key
    assert set(ours) - set(recipe) == _extra_keys(stack)


def test_recipe_block_is_read_from_the_seed() -> None:
    recipe = recipe_config_json()
    assert recipe["graph_backend"] == "tiered" and recipe["kg_daemon_role"] == "host"
    assert len(recipe) == 15


@pytest.mark.parametrize("stack", ["staging", "enterprise"])
def test_dsns_are_secrets_with_the_recipe_shape(stack: str) -> None:
    run = evaluate(stack)
    recipe = recipe_config_json()
    pw = mockrun.fake_password("agentDbPassword", 32)
    for env, key, db in (
        ("STATE_DB_URI", "state_db_uri", "agent_state"),
        ("GRAPH_DB_URI", "graph_db_uri", "agent_kg"),
    ):
        target = f"/run/secrets/{key}"
        secret, value = mounted_secret(run, "agent-gateway", target)
        assert mockrun.is_secret(secret.inputs["data"])
        assert value == f"postgresql://agent:{pw}@pg-age:5432/{db}"
        ours, theirs = urlsplit(value), urlsplit(recipe[key])
        assert (ours.scheme, ours.username, ours.port, ours.path) == (
            theirs.scheme,
            theirs.username,
            theirs.port,
            theirs.path,
        )
        assert f"{env}={target}" in container(run, "agent-gateway")["env"]["SECRETS_TO_ENV"]


@pytest.mark.parametrize("stack", ["staging", "enterprise"])
def test_one_endpoint_list_and_no_secret_in_any_config_json(stack: str) -> None:
    run = evaluate(stack)
    want = {
        "staging": ["tcp://kg-shard-1:9101"],
        "enterprise": ["tcp://kg-shard-1:9101", "tcp://kg-shard-2:9102", "tcp://kg-shard-3:9103"],
    }[stack]
    assert run.outputs["shardEndpoints"] == want
    for svc in (
        "agent-gateway",
        "kg-daemon",
        "graph-os",
        "kg-ingest-worker",
        "agent-dispatch-worker",
    ):
        doc = _config(run, svc)
        assert doc["graph_service_endpoints"] == want, svc
        assert "graph_service_auth_secret" not in doc
        text = json.dumps(doc).lower()
        assert "password" not in text and "secret_id" not in text and "postgresql://" not in text
        exported = container(run, svc)["env"]["SECRETS_TO_ENV"]
        assert "GRAPH_SERVICE_AUTH_SECRET=/run/secrets/graph_service_auth_secret" in exported, svc


def test_client_and_host_config_json_differ_only_in_the_role(enterprise: mockrun.Run) -> None:
    host, client = _config(enterprise, "kg-daemon"), _config(enterprise, "agent-gateway")
    assert host.pop("kg_daemon_role") == "host" and client.pop("kg_daemon_role") == "client"
    assert host == client


def test_extra_keys_pass_through(run_with: Any) -> None:
    run = run_with(
        "staging", overrides={"agent-os:app": {"extra": {"kg_policy_version": "baseline-v1", "tags": ["a"]}}}
    )
    doc = _config(run, "graph-os")
    assert doc["kg_policy_version"] == "baseline-v1" and doc["tags"] == ["a"]


def test_langfuse_keys_are_wired_only_when_on(staging: mockrun.Run, enterprise: mockrun.Run) -> None:
    on = container(enterprise, "agent-gateway")["env"]["SECRETS_TO_ENV"]
    off = container(staging, "agent-gateway")["env"]["SECRETS_TO_ENV"]
    for env in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        assert f"{env}=/run/secrets/" in on and env not in off
    _, pub = mounted_secret(enterprise, "agent-gateway", "/run/secrets/langfuse_public_key")
    assert pub == mockrun.SECURE_PLACEHOLDER  # the stack file's; configured, never generated
    assert not any(
        k.startswith(("langfuse", "otel_exporter_otlp_endpoint")) for k in _config(staging, "graph-os")
    )


def test_langfuse_on_without_host_is_a_config_error(run_with: Any) -> None:
    with pytest.raises(Exception, match=r"agent-os:app\.langfuseHost"):
        run_with("staging", overrides={"agent-os:integrations": {"langfuse": True}})


def test_toggled_off_integrations_degrade_cleanly(run_with: Any) -> None:
    run = run_with(
        "staging",
        overrides={
            "agent-os:integrations": {
                "keycloak": False,
                "allowUnauthenticated": True,
                "openbao": False,
                "lgtm": False,
                "portainer": False,
            },
        },
    )
    doc = _config(run, "kg-daemon")
    for key in ("auth_jwt_issuer", "auth_jwt_jwks_uri", "secrets_vault_url", "vault_auth_method"):
        assert key not in doc
    assert doc["enable_otel"] is False and "otel_exporter_otlp_traces_endpoint" not in doc
    assert container(run, "caddy-mcp")["env"]["AUTH_TYPE"] == "none"
    assert "VAULT_SECRET_ID" not in container(run, "agent-gateway")["env"]["SECRETS_TO_ENV"]
    assert "fleet" not in run.outputs["urls"]  # no unauthenticated Fleet Supervisor
