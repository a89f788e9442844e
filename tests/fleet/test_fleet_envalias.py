"""The app's env-alias rule (platform.md §3): precedence, JSON for lists, refusal of a
conflicting pair, computed for every process of the tier."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from components.config import parse
from components.config.app import alias_value
from components.config.resources import Resources
from components.config.swarm import Layer
from components.fleet.appconfig import EnvConflictError, FromSecret, effective_env
from components.fleet.process import AppProcess, SecretRef, effective, http_health
from components.model import Placement
from tests.fleet.fleethelp import container
from tools import mockrun


def test_alias_values_convert_like_the_loader() -> None:
    assert alias_value(True) == "True" and alias_value(False) == "False"
    assert alias_value(None) == ""
    assert alias_value(["tcp://a:1", "tcp://b:2"]) == '["tcp://a:1", "tcp://b:2"]'
    assert alias_value({"a": 1}) == '{"a": 1}'
    assert alias_value(3) == "3" and alias_value("x") == "x"


def test_env_wins_and_config_fills_only_unset_vars() -> None:
    env = effective_env("p", {"A": "1"}, {"a": "1", "b": ["x"], "c": None, "d": True})
    assert env == {"A": "1", "B": '["x"]', "C": "", "D": "True"}


def test_conflicting_pair_is_refused() -> None:
    with pytest.raises(EnvConflictError, match=r"TASK_QUEUE_BACKEND: env 'postgres' vs config.json 'kafka'"):
        effective_env("gw", {"TASK_QUEUE_BACKEND": "postgres"}, {"task_queue_backend": "kafka"})
    # "true" in env is not the loader's "True": that is a conflict too.
    with pytest.raises(EnvConflictError):
        effective_env("gw", {"KG_AUTH_REQUIRED": "true"}, {"kg_auth_required": True})


def test_a_secret_export_never_matches_a_plain_config_value() -> None:
    with pytest.raises(EnvConflictError, match="STATE_DB_URI"):
        effective_env(
            "gw", {"STATE_DB_URI": FromSecret("/run/secrets/x")}, {"state_db_uri": "postgresql://a@h/db"}
        )


def test_keys_that_upper_case_alike_are_refused() -> None:
    with pytest.raises(EnvConflictError, match="FOO"):
        effective_env("gw", {}, {"foo": 1, "FOO": 1})


def _proc(role: str, env: dict[str, str], secrets: tuple[SecretRef, ...] = ()) -> AppProcess:
    return AppProcess(
        placement=Placement("probe", Layer.AGENTS),
        role=role,
        program=("x",),
        env=env,
        secrets=secrets,
        networks=(),
        resources=Resources(),
        health=http_health(1, "/health"),
    )


def test_a_process_whose_role_disagrees_with_its_config_json_is_refused() -> None:
    docs = {"host": {"kg_daemon_role": "host"}, "client": {"kg_daemon_role": "client"}}
    assert effective(_proc("client", {"KG_DAEMON_ROLE": "client"}), docs)["KG_DAEMON_ROLE"] == "client"
    with pytest.raises(EnvConflictError, match="KG_DAEMON_ROLE"):
        effective(_proc("client", {"KG_DAEMON_ROLE": "host"}), docs)


@pytest.mark.parametrize("stack", ["staging", "enterprise"])
def test_effective_environment_of_every_app_process(stack: str) -> None:
    from tests.conftest import evaluate

    run = evaluate(stack)
    endpoints = run.outputs["shardEndpoints"]
    roles: dict[str, str] = {}
    for name in ("agent-gateway", "kg-daemon", "graph-os", "kg-ingest-worker", "agent-dispatch-worker"):
        cs = container(run, name)
        doc = json.loads(
            next(
                mockrun.b64decode(c.inputs["data"])
                for c in run.by_type("docker:index/serviceConfig:ServiceConfig")
                if c.inputs["name"]
                == next(
                    x["configName"]
                    for x in cs["configs"]
                    if x["fileName"] == "/etc/agent-utilities/config.json"
                )
            )
        )
        env: dict[str, Any] = dict(cs["env"])
        for spec in env.pop("SECRETS_TO_ENV").split(","):
            k, _, path = spec.partition("=")
            env[k] = FromSecret(path)
        eff = effective_env(name, env, doc)
        # Lists arrive as JSON, booleans as Python's str().
        assert json.loads(str(eff["GRAPH_SERVICE_ENDPOINTS"])) == endpoints
        assert eff["GRAPH_SERVICE_ENDPOINTS"] == json.dumps(endpoints)
        assert eff["KG_AUTH_REQUIRED"] == "True"
        assert isinstance(eff["STATE_DB_URI"], FromSecret)
        assert eff["AGENT_UTILITIES_CONFIG_DIR"] == "/etc/agent-utilities"
        roles[name] = str(eff["KG_DAEMON_ROLE"])
    assert [n for n, r in roles.items() if r == "host"] == ["kg-daemon"]


def test_conflict_between_extra_and_extra_env_stops_before_resources(run_with: Any) -> None:
    app = {"extra": {"kg_policy_version": "baseline-v1"}, "extraEnv": {"KG_POLICY_VERSION": "policy-v1"}}
    with pytest.raises(pulumi.RunError, match=r"conflicting pair: extraEnv KG_POLICY_VERSION='policy-v1'"):
        run_with("staging", overrides={"agent-os:app": app})
    same = {"extra": {"kg_policy_version": "baseline-v1"}, "extraEnv": {"KG_POLICY_VERSION": "baseline-v1"}}
    run = run_with("staging", overrides={"agent-os:app": same})
    assert container(run, "agent-gateway")["env"]["KG_POLICY_VERSION"] == "baseline-v1"


@pytest.mark.parametrize(
    ("app", "match"),
    [
        ({"extra": {"host": "127.0.0.1"}}, "sets per process"),
        ({"extra": {"state_db_uri": "postgresql://x"}}, "rendered by the program"),
        ({"extra": {"openai_api_key": "x"}}, "names a secret"),
        ({"extraEnv": {"KG_DAEMON_ROLE": "host"}}, "set by the program"),
        ({"extraEnv": {"TASK_QUEUE_BACKEND": "postgres"}}, "set by the program"),
        ({"extra": {"foo": 1, "FOO": 1}}, "same env alias"),
    ],
)
def test_pass_through_cannot_shadow_or_leak(app: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        parse({"app": app}, "staging")
