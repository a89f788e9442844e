"""Least privilege in the core layer (issue 15, item 2), on the rendered service specs:
Portainer's server and agents share AGENT_SECRET from a Docker secret file (never in a spec);
Grafana admits only mapped Keycloak roles; Prometheus and cAdvisor get no capability and only
read-only binds, cAdvisor only the Docker socket of /var/run."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from components.config.images import DEFAULT_IMAGES
from components.config.secrets import SECRET_KEYS
from components.core.grafana import ROLE_MAP, role_attribute_path
from components.core.keycloak import ROLES
from components.core.portainer import (
    AGENT_BINARY,
    AGENT_SECRET_FILE,
    AGENT_SECRET_KEY,
    SERVER_BINARY,
)
from components.swarm.entrypoint import ENV_VAR, SCRIPT_PATH, SHELL
from tests.conftest import STACKS, evaluate
from tests.core.helpers import container
from tests.fleet.fleethelp import mounted_config, mounted_secret
from tools import mockrun

AGENT_SECRET_PATH = f"/run/secrets/{AGENT_SECRET_FILE}"
DOCKER_SOCKET = "/var/run/docker.sock"


def _env(cs: dict[str, Any]) -> dict[str, str]:
    return dict(cs.get("env") or {})


def _binds(cs: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """target -> (source, read-only) of every bind mount."""
    return {
        m["target"]: (m["source"], bool(m.get("readOnly")))
        for m in cs.get("mounts") or []
        if m["type"] == "bind"
    }


# --- Portainer: the shared AGENT_SECRET --------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_portainer_server_and_agents_share_one_generated_agent_secret(stack: str) -> None:
    run = evaluate(stack)
    secret, value = mounted_secret(run, "portainer", AGENT_SECRET_PATH)
    agent_secret, agent_value = mounted_secret(run, "portainer-agent", AGENT_SECRET_PATH)
    assert secret.urn == agent_secret.urn and value == agent_value  # one secret, both sides
    # A generated stack secret (config/secrets.py), as long as declared there.
    assert AGENT_SECRET_KEY in SECRET_KEYS
    assert len(value) == SECRET_KEYS[AGENT_SECRET_KEY].length >= 32
    randoms = {r.name for r in run.by_type("random:index/randomPassword:RandomPassword")}
    assert AGENT_SECRET_KEY in randoms


@pytest.mark.parametrize("service", ["portainer", "portainer-agent"])
@pytest.mark.parametrize("stack", STACKS)
def test_portainer_reads_agent_secret_from_the_file_through_with_secrets(stack: str, service: str) -> None:
    """Neither Portainer binary reads AGENT_SECRET from a file: the with-secrets entrypoint
    exports the secret file as AGENT_SECRET, then execs the real binary."""
    run = evaluate(stack)
    cs = container(run, service)
    assert cs["commands"] == [SHELL, SCRIPT_PATH]
    binary = SERVER_BINARY if service == "portainer" else AGENT_BINARY
    assert cs["args"][0] == binary
    env = _env(cs)
    assert env[ENV_VAR] == f"AGENT_SECRET={AGENT_SECRET_PATH}"
    assert "AGENT_SECRET" not in env  # the value itself is never an env entry of the spec
    assert mounted_config(run, service, SCRIPT_PATH).startswith("#!/bin/sh")
    mounts = {s["fileName"]: s for s in cs["secrets"]}
    assert mounts[AGENT_SECRET_PATH]["fileMode"] == 0o400


@pytest.mark.parametrize("stack", STACKS)
def test_agent_secret_value_is_in_no_service_spec(stack: str) -> None:
    run = evaluate(stack)
    _, value = mounted_secret(run, "portainer", AGENT_SECRET_PATH)
    for name, svc in run.services().items():
        # `plain` unwraps Pulumi secrets too: not even a secret-marked copy may be there.
        assert value not in json.dumps(svc.plain), name


@pytest.mark.parametrize("stack", STACKS)
def test_portainer_runs_the_alpine_variants_of_its_pinned_images(stack: str) -> None:
    """The plain tags are FROM scratch (no /bin/sh for with-secrets): the pins are -alpine."""
    run = evaluate(stack)
    for service in ("portainer", "portainer-agent"):
        image = container(run, service)["image"]
        assert image.endswith(":2.33.2-alpine"), service
        assert image == DEFAULT_IMAGES[service], service


def test_an_image_override_is_used_as_given(run_with: Callable[..., mockrun.Run]) -> None:
    values, _ = mockrun.stack_config("staging")
    mine = "registry.internal:5000/portainer/agent:2.33.2-alpine"
    images = {**values.get("agent-os:images", {}), "overrides": {"portainer-agent": mine}}
    run = run_with("staging", overrides={"agent-os:images": images})
    assert container(run, "portainer-agent")["image"] == mine


@pytest.mark.parametrize("stack", STACKS)
def test_server_skips_agent_tls_verification_only_with_the_agent_secret(stack: str) -> None:
    """Agents serve a self-signed certificate they make at each start, so the server cannot
    verify it (--tlsskipverify); the shared secret is what authenticates the server."""
    run = evaluate(stack)
    server = container(run, "portainer")
    assert "--tlsskipverify" in server["args"]
    assert "AGENT_SECRET=" in _env(server)[ENV_VAR]
    assert "AGENT_SECRET=" in _env(container(run, "portainer-agent"))[ENV_VAR]


# --- Grafana: roles from Keycloak, nobody else ---------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_admits_only_mapped_keycloak_roles(stack: str) -> None:
    env = _env(container(evaluate(stack), "grafana"))
    assert env["GF_AUTH_GENERIC_OAUTH_ENABLED"] == "true"
    # No role found = login denied (not the auto_assign_org_role default).
    assert env["GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT"] == "true"
    assert env["GF_AUTH_GENERIC_OAUTH_SKIP_ORG_ROLE_SYNC"] == "false"
    # And the allowed groups (the realm roles claim) are exactly the mapped roles.
    assert env["GF_AUTH_GENERIC_OAUTH_GROUPS_ATTRIBUTE_PATH"] == "roles"
    assert set(env["GF_AUTH_GENERIC_OAUTH_ALLOWED_GROUPS"].split()) == {"webui:admin", "admin:cluster-read"}
    # Users that do get created never default to a basic role; no server admin via SSO.
    assert env["GF_USERS_AUTO_ASSIGN_ORG_ROLE"] == "None"
    assert env["GF_AUTH_GENERIC_OAUTH_ALLOW_ASSIGN_GRAFANA_ADMIN"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH"] == role_attribute_path()


def test_grafana_role_mapping_has_no_fallback_role() -> None:
    """webui:admin -> Admin, admin:cluster-read -> Viewer, anything else -> '' (denied)."""
    assert ROLE_MAP == (("webui:admin", "Admin"), ("admin:cluster-read", "Viewer"))
    assert {kc for kc, _ in ROLE_MAP} <= set(ROLES)  # real realm roles
    path = role_attribute_path()
    alternatives = path.split(" || ")
    # The last alternative is the empty role: a realm user without a mapped role gets none.
    assert alternatives[-1] == "''"
    literals = re.findall(r"&& '([^']*)'", path)
    assert literals == ["Admin", "Viewer"]
    assert "GrafanaAdmin" not in path and "Editor" not in path


# --- Prometheus and cAdvisor: no capabilities, read-only binds -------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_has_no_capability_and_writes_its_volume_by_group(stack: str) -> None:
    cs = container(evaluate(stack), "prometheus")
    # uid 0 owns the Docker socket; gid 65534 is the TSDB volume's (group-writable) group.
    assert cs["user"] == "0:65534"
    assert cs["capDrops"] == ["ALL"]
    assert not cs.get("capAdds")
    assert _binds(cs) == {DOCKER_SOCKET: (DOCKER_SOCKET, True)}


@pytest.mark.parametrize("stack", STACKS)
def test_cadvisor_binds_only_the_docker_socket_of_var_run_and_all_read_only(stack: str) -> None:
    cs = container(evaluate(stack), "cadvisor")
    binds = _binds(cs)
    assert "/var/run" not in binds
    assert binds == {
        "/rootfs": ("/", True),
        DOCKER_SOCKET: (DOCKER_SOCKET, True),
        "/sys": ("/sys", True),
        "/var/lib/docker": ("/var/lib/docker", True),
    }
    # Not /dev/disk: udev makes it, and a node without udev (this CI machine, minimal VMs)
    # has none, so Swarm refused every cAdvisor task ("bind source path does not exist").
    assert cs["capDrops"] == ["ALL"] and not cs.get("capAdds")
    assert "--docker_only=true" in cs["args"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_realm_locks_out_password_guessing(stack: str) -> None:
    """Keycloak leaves brute-force detection off unless a realm turns it on: the realm the
    users sign in to (and the service accounts' token endpoint) must have it."""
    realm = evaluate(stack).one("keycloak:index/realm:Realm", "realm-agents").inputs
    assert "bruteForceDetection" in (realm.get("securityDefenses") or {}), realm
