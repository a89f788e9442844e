"""Connectors receive their own credentials as Docker secret files, named per connector in
stack config (agent-os:fleet.connectorSecrets); the values are one secret config object."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.fleet.fleethelp import container, mounted_secret
from tools import mockrun

CREDS = {"caddy-mcp": {"CADDY_API_TOKEN": "tok-1"}}


def _run(fleet_extra: dict[str, Any], creds: dict[str, Any] | None) -> mockrun.Run:
    values, _ = mockrun.stack_config("staging")
    over = {"agent-os:fleet": {**values["agent-os:fleet"], **fleet_extra}}
    secrets = {"agent-os:connectorCredentials": json.dumps(creds)} if creds is not None else None
    return mockrun.run("staging", overrides=over, secrets=secrets)


def test_a_connector_gets_its_credentials_as_secret_files() -> None:
    run = _run({"connectorSecrets": {"caddy-mcp": ["CADDY_API_TOKEN"]}}, CREDS)
    cs = container(run, "caddy-mcp")
    assert "CADDY_API_TOKEN=/run/secrets/caddy_api_token" in cs["env"]["SECRETS_TO_ENV"]
    assert "tok-1" not in json.dumps(cs["env"])
    secret, value = mounted_secret(run, "caddy-mcp", "/run/secrets/caddy_api_token")
    assert mockrun.is_secret(secret.inputs["data"]) and value == "tok-1"
    assert cs["args"] == ["caddy-mcp"]  # the console script, run after the secrets are exported
    # Other connectors are untouched.
    assert "SECRETS_TO_ENV" not in container(run, "vector-mcp")["env"]


def test_a_declared_credential_that_is_not_set_is_a_config_error() -> None:
    with pytest.raises(pulumi.RunError, match=r"agent-os:connectorCredentials\.caddy-mcp\.CADDY_API_TOKEN"):
        _run({"connectorSecrets": {"caddy-mcp": ["CADDY_API_TOKEN"]}}, {"caddy-mcp": {}})
    with pytest.raises(pulumi.RunError, match=r"agent-os:connectorCredentials"):
        _run({"connectorSecrets": {"caddy-mcp": ["CADDY_API_TOKEN"]}}, None)


def test_credentials_for_a_connector_the_stack_does_not_deploy_are_refused() -> None:
    with pytest.raises(pulumi.RunError, match=r"agent-os:fleet\.connectorSecrets.*github-mcp"):
        _run({"connectorSecrets": {"github-mcp": ["GITHUB_TOKEN"]}}, {"github-mcp": {"GITHUB_TOKEN": "x"}})
