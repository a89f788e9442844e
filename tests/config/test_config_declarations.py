"""What config restates about the program (config imports no other project package) is
checked against the program itself: the env and config.json keys it manages, the app's
databases, the loader's error format."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import ValidationError

from components import config
from components.config.app import TYPED_KEYS, connector_env_reason, program_env_reason
from components.config.data import APP_DATABASES
from components.config.model import NAMESPACE, field_problem
from components.core.openbao import ADMIN_MOUNT, ADMIN_POLICY, ADMIN_ROLE, render_admin_policy
from tools import mockrun

PROBE = "ZZ_PROBE_EXTRA_ENV"
CONNECTOR = "caddy-mcp"
CREDENTIAL = "CADDY_API_TOKEN"


def _everything_on() -> mockrun.Run:
    """Staging with every feature that adds env: the web UI, Langfuse, Eunomia, the docker
    actuator, a connector credential, and a probe in agent-os:app.extraEnv."""
    values, _ = mockrun.stack_config("staging")
    return mockrun.run(
        "staging",
        overrides={
            "agent-os:app": {"extraEnv": {PROBE: "1"}, "langfuseHost": "https://langfuse.example.org"},
            "agent-os:integrations": {**values["agent-os:integrations"], "langfuse": True},
            "agent-os:images": {
                **values["agent-os:images"],
                "overrides": {"agent-webui": "registry.internal:5000/agent-webui:verified"},
            },
            "agent-os:fleet": {
                **values["agent-os:fleet"],
                "webui": {"enabled": True},
                "eunomiaRemoteUrl": "https://eunomia.example.org",
                "connectorSecrets": {CONNECTOR: [CREDENTIAL]},
                "autonomy": {
                    "actuator": "docker",
                    "dockerSocket": "/var/run/docker.sock",
                    "reconciler": True,
                },
            },
        },
        secrets={
            "agent-os:langfusePublicKey": "pk-lf-test",
            "agent-os:langfuseSecretKey": "sk-lf-test",
            "agent-os:connectorCredentials": json.dumps({CONNECTOR: {CREDENTIAL: "x"}}),
        },
    )


@pytest.fixture(scope="module")
def everything_on() -> mockrun.Run:
    return _everything_on()


def _env_names(service: mockrun.Registered) -> set[str]:
    """Env the service is given, plus what its entrypoint exports from secret files."""
    env: dict[str, Any] = service.plain["taskSpec"]["containerSpec"].get("env") or {}
    names = set(env)
    for export in str(env.get("SECRETS_TO_ENV", "")).split(","):
        if export:
            names.add(export.split("=", 1)[0])
    return names


def _labels(service: mockrun.Registered) -> dict[str, str]:
    return {item["label"]: item["value"] for item in service.plain.get("labels") or []}


def test_app_processes_get_only_env_config_declares_as_the_programs(everything_on: mockrun.Run) -> None:
    app = {n: s for n, s in everything_on.services().items() if PROBE in _env_names(s)}
    assert {"agent-gateway", "kg-daemon", "graph-os", "agent-webui"} <= set(app)
    undeclared = {
        name: sorted(k for k in _env_names(s) - {PROBE} if program_env_reason(k) is None)
        for name, s in app.items()
    }
    # Any name here: add it to PROGRAM_ENV / PROGRAM_ENV_PREFIXES (components/config/app.py).
    assert all(not names for names in undeclared.values()), undeclared


def test_connectors_get_only_env_config_declares_as_the_programs(everything_on: mockrun.Run) -> None:
    connectors = {
        n: s for n, s in everything_on.services().items() if _labels(s).get("agent-os.kind") == "connector"
    }
    assert CONNECTOR in connectors
    undeclared = {
        name: sorted(k for k in _env_names(s) - {CREDENTIAL} if connector_env_reason(k) is None)
        for name, s in connectors.items()
    }
    # Any name here: add it to CONNECTOR_ENV (components/config/app.py).
    assert all(not names for names in undeclared.values()), undeclared


def test_config_json_holds_only_keys_config_declares_as_rendered(everything_on: mockrun.Run) -> None:
    documents: list[dict[str, Any]] = []
    for r in everything_on.by_type("docker:index/serviceConfig:ServiceConfig"):
        try:
            doc = json.loads(base64.b64decode(r.plain["data"]))
        except ValueError:
            continue
        if isinstance(doc, dict) and "kg_daemon_role" in doc:
            documents.append(doc)
    assert len(documents) == 2  # host and client
    # Any key here: add it to TYPED_KEYS (components/config/app.py).
    assert sorted({k for d in documents for k in d} - TYPED_KEYS) == []


def test_app_databases_are_the_programs() -> None:
    run = mockrun.run("staging")
    names = {r.plain["name"] for r in run.by_type("postgresql:index/database:Database")}
    keycloak = mockrun.stack_model("staging").core.keycloak.database
    assert names - {keycloak} == set(APP_DATABASES)


def test_namespace_is_the_loaders() -> None:
    assert NAMESPACE == config.NAMESPACE


def test_problems_are_formatted_as_the_loader_formats_field_errors() -> None:
    with pytest.raises(ValidationError) as exc:
        config.parse({"data": {"kafka": {"brokers": 0, "broker": 3}}, "app": {"extra": {"host": "x"}}}, "t")
    lines = [f"{p}: {r}" for p, r in (field_problem(e)[0] for e in exc.value.errors())]
    assert config.format_validation_error(exc.value) == "invalid stack config:\n  " + "\n  ".join(lines)


# Pattern-valid names around the ones the program keeps for itself.
OPENBAO_NAMES = (
    ADMIN_MOUNT,
    ADMIN_ROLE,
    ADMIN_POLICY,
    "root",
    "default",
    "sys",
    "token",
    "auth/x",
    "approle",
    "agents",
)


def _config_refuses(openbao: dict[str, str]) -> bool:
    try:
        config.parse({"core": {"openbao": openbao}}, "t")
    except ValidationError:
        return True
    return False


def _program_refuses(
    kv_mount: str = "secret", approle_mount: str = "approle", app_role: str = "agent-utilities"
) -> bool:
    try:
        render_admin_policy(kv_mount, "platform", approle_mount, app_role)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("name", OPENBAO_NAMES)
def test_config_refuses_the_openbao_names_the_program_refuses(name: str) -> None:
    # Refused at config time, before any resource, instead of mid-run by the core layer.
    assert _program_refuses(approle_mount=name) <= _config_refuses({"approleMount": name})
    assert _program_refuses(app_role=name) <= _config_refuses({"appRole": name})
    assert _program_refuses(kv_mount=name) <= _config_refuses({"kvMount": name})
