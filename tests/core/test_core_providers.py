"""Provider-managed resources: Keycloak realm/roles/clients/mappings, OpenBao KV/AppRole/policy,
and the providers themselves (explicit, preview-known addresses, secret credentials)."""

from __future__ import annotations

import json

import hcl2
import pytest

from components.config import parse
from components.core.keycloak import issuer
from components.swarm.context import CorePlatform, Platform
from tests.conftest import STACKS, evaluate, evaluate_with_webui
from tests.core.helpers import COMMAND
from tools import mockrun

KC = "keycloak:"
ROLE = "keycloak:index/role:Role"
CLIENT = "keycloak:openid/client:Client"


def _clients(run: mockrun.Run) -> dict[str, mockrun.Registered]:
    return {c.inputs["clientId"]: c for c in run.by_type(CLIENT)}


def test_realm_and_roles_with_composites(stack_run: mockrun.Run) -> None:
    (realm,) = stack_run.by_type("keycloak:index/realm:Realm")
    assert realm.inputs["realm"] == "agents" and realm.inputs["enabled"] is True
    roles = {r.inputs["name"]: r for r in stack_run.by_type(ROLE)}
    assert set(roles) == {"kg:read", "kg:write", "kg:admin", "admin:cluster-read", "webui:admin"}
    for r in roles.values():
        assert r.inputs["realmId"] == realm.id
    assert roles["kg:write"].inputs["compositeRoles"] == [roles["kg:read"].id]
    assert roles["kg:admin"].inputs["compositeRoles"] == [roles["kg:write"].id]
    assert "compositeRoles" not in roles["webui:admin"].inputs  # separate from kg:admin


@pytest.mark.parametrize("stack", STACKS)
def test_clients(stack: str) -> None:
    stack_run = evaluate(stack)
    zone = stack_run.outputs["zone"]
    c = _clients(stack_run)
    # The webui is off by default: its browser client exists only with the webui.
    assert set(c) == {
        "agent-utilities",
        "agent-webui-svc",
        "geniusbot",
        "grafana",
        "portainer",
        "alertmanager",
    }
    assert set(_clients(evaluate_with_webui(stack))) == {*c, "agent-webui"}
    webui = _clients(evaluate_with_webui(stack))["agent-webui"].inputs
    assert webui["accessType"] == "PUBLIC" and webui["standardFlowEnabled"] is True
    assert webui["pkceCodeChallengeMethod"] == "S256"
    assert "clientSecret" not in webui
    svc = c["agent-webui-svc"].inputs
    assert svc["accessType"] == "CONFIDENTIAL" and svc["serviceAccountsEnabled"] is True
    assert svc["standardFlowEnabled"] is False
    api = c["agent-utilities"].inputs
    assert api["accessType"] == "CONFIDENTIAL" and api["serviceAccountsEnabled"] is True
    assert c["grafana"].inputs["validRedirectUris"] == [f"https://grafana.{zone}/login/generic_oauth"]
    assert c["portainer"].inputs["validRedirectUris"] == [f"https://portainer.{zone}/"]
    for name in ("agent-utilities", "agent-webui-svc", "grafana", "portainer", "alertmanager"):
        assert mockrun.is_secret(c[name].inputs["clientSecret"]), name
    # Alertmanager: client credentials only (its token for the fleet events webhook).
    am = c["alertmanager"].inputs
    assert am["accessType"] == "CONFIDENTIAL" and am["serviceAccountsEnabled"] is True
    assert am["standardFlowEnabled"] is False and am["directAccessGrantsEnabled"] is False
    assert not am.get("implicitFlowEnabled") and not am.get("validRedirectUris")


@pytest.mark.parametrize("stack", STACKS)
def test_audience_mappers_put_agent_utilities_in_the_tokens(stack: str) -> None:
    for run, names in (
        (evaluate(stack), ("agent-utilities", "agent-webui-svc", "geniusbot", "alertmanager")),
        (
            evaluate_with_webui(stack),
            ("agent-utilities", "agent-webui", "agent-webui-svc", "geniusbot", "alertmanager"),
        ),
    ):
        c = _clients(run)
        mappers = run.by_type("keycloak:openid/audienceProtocolMapper:AudienceProtocolMapper")
        carriers = {
            m.inputs["clientId"] for m in mappers if m.inputs["includedClientAudience"] == "agent-utilities"
        }
        assert carriers == {c[n].id for n in names}
        assert all(m.inputs["addToAccessToken"] is True for m in mappers)


def test_service_account_role_mappings(stack_run: mockrun.Run) -> None:
    got = {
        (r.name.split("-kg-")[0] if "-kg-" in r.name else r.name.rsplit("-admin-", 1)[0], r.inputs["role"])
        for r in stack_run.by_type(
            "keycloak:openid/clientServiceAccountRealmRole:ClientServiceAccountRealmRole"
        )
    }
    assert got == {
        ("sa-agent-webui-svc", "kg:write"),
        ("sa-agent-webui-svc", "admin:cluster-read"),
        ("sa-agent-utilities", "kg:admin"),
    }  # alertmanager: none (POST /api/fleet/events checks no role in agent-utilities 0.52.0)


def test_keycloak_outputs_match_what_agent_utilities_expects(stack_run: mockrun.Run) -> None:
    zone = stack_run.outputs["zone"]
    assert zone.endswith(".arpa")
    iss = f"https://sso.{zone}/realms/agents"
    cfg = parse({"edge": {"zone": zone}}, "t")  # the core layer's own context, nothing more
    assert issuer(CorePlatform.on(Platform.of(cfg, {}), cfg.core, cfg.integrations)) == iss
    env = stack_run.services()["keycloak"].plain["taskSpec"]["containerSpec"]["env"]
    assert env["KC_HOSTNAME"] == f"https://sso.{zone}"
    assert env["KC_PROXY_HEADERS"] == "xforwarded" and env["KC_HTTP_ENABLED"] == "true"
    assert env["KC_HEALTH_ENABLED"] == "true"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True])
def test_providers_are_explicit_and_preview_known(stack: str, preview: bool) -> None:
    run = evaluate(stack, preview)
    zone = "staging.agents.arpa" if stack == "staging" else "agents.arpa"
    kc = run.one("pulumi:providers:keycloak", "keycloak").inputs
    assert kc["url"] == f"https://sso.{zone}"
    assert kc["initialLogin"] in (False, "false")
    assert mockrun.is_secret(kc["password"])
    v = run.one("pulumi:providers:vault", "vault").inputs
    assert v["address"] == f"https://openbao.{zone}"
    # No token: the provider logs in as the admin AppRole (tests/core/test_core_openbao_admin.py).
    assert "token" not in v and mockrun.is_secret(v["authLogin"])
    for r in run.resources:
        if r.type.startswith((KC, "vault:")):
            prov = r.provider.rsplit("::", 1)[0]
            expected = "keycloak" if r.type.startswith(KC) else "vault"
            assert prov.endswith(f"pulumi:providers:{expected}::{expected}"), r.name


def test_keycloak_database_on_the_data_layer(staging: mockrun.Run) -> None:
    role = staging.one("postgresql:index/role:Role", "role-keycloak")
    db = staging.one("postgresql:index/database:Database", "db-keycloak")
    assert role.inputs["name"] == "keycloak" and mockrun.is_secret(role.inputs["password"])
    assert db.inputs["name"] == "keycloak" and db.inputs["owner"] == "keycloak"
    assert db.provider.rsplit("::", 1)[0].endswith("pulumi:providers:postgresql::postgresql")
    env = staging.services()["keycloak"].plain["taskSpec"]["containerSpec"]["env"]
    assert env["KC_DB_URL_DATABASE"] == "keycloak" and env["KC_DB_USERNAME"] == "keycloak"
    assert "KC_DB_PASSWORD" not in env and "KC_DB_PASSWORD=" in env["SECRETS_TO_ENV"]


def test_kv_mount_approle_and_policy(stack_run: mockrun.Run) -> None:
    kv = stack_run.one("vault:index/mount:Mount", "kv").inputs
    assert (kv["path"], kv["type"], kv["options"]) == ("secret", "kv", {"version": "2"})
    auth = stack_run.one("vault:index/authBackend:AuthBackend", "approle").inputs
    assert (auth["type"], auth["path"]) == ("approle", "approle")
    policy = stack_run.one("vault:index/policy:Policy", "policy-agent-utilities").inputs
    assert policy["name"] == "agent-utilities"
    doc = hcl2.loads(policy["policy"])
    paths = {k.strip('"'): v for item in doc["path"] for k, v in item.items()}
    assert [c.strip('"') for c in paths["secret/data/platform/*"]["capabilities"]] == ["read"]
    assert set(paths) == {"secret/data/platform/*", "secret/metadata/platform/*"}
    role = stack_run.one("vault:appRole/authBackendRole:AuthBackendRole", "approle-agent-utilities").plain
    assert role["roleName"] == "agent-utilities" and role["tokenPolicies"] == ["agent-utilities"]
    assert role["backend"] == "approle"
    assert mockrun.is_secret(
        stack_run.one("vault:appRole/authBackendRole:AuthBackendRole", "approle-agent-utilities").inputs[
            "roleId"
        ]
    )
    sid = stack_run.one(
        "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId", "approle-agent-utilities-secret-id"
    )
    assert mockrun.is_secret(sid.inputs["secretId"]) and sid.plain["roleName"] == "agent-utilities"


def test_generated_secrets_are_written_to_kv_as_secrets(staging: mockrun.Run) -> None:
    secrets = {s.inputs["name"]: s for s in staging.by_type("vault:kv/secretV2:SecretV2")}
    assert set(secrets) == {
        "platform/postgres",
        "platform/graph",
        "platform/fleet-events",
        "platform/oidc/agent-utilities",
        "platform/oidc/agent-webui-svc",
        "platform/oidc/grafana",
        "platform/oidc/portainer",
    }
    for s in secrets.values():
        assert s.inputs["mount"] == "secret"
        assert mockrun.is_secret(s.inputs["dataJson"])
    assert set(json.loads(secrets["platform/postgres"].plain["dataJson"])) == {
        "agent_password",
        "keycloak_password",
    }
    fleet = json.loads(secrets["platform/fleet-events"].plain["dataJson"])
    token = staging.one("random:index/randomPassword:RandomPassword", "fleetEventsToken")
    assert fleet == {"token": mockrun.fake_password("fleetEventsToken", token.inputs["length"])}


def test_vault_refs_are_what_the_app_resolves(staging: mockrun.Run) -> None:
    from components.core.openbao import vault_ref

    assert vault_ref("platform/postgres", "agent_password") == "vault://platform/postgres#agent_password"


def test_openbao_init_prints_only_to_a_secret_and_never_logs(stack_run: mockrun.Run) -> None:
    init = stack_run.one(COMMAND, "openbao-init").inputs
    assert init["logging"] == "none"
    assert "baoctl.py init" in init["create"]
    assert "update" not in init and "triggers" not in init  # runs once per stack
    env = init["environment"]
    assert env["BAO_URL"].startswith("https://openbao.")
    assert "BAO_ROOT_TOKEN" not in env  # secrets travel on stdin (test_core_openbao_admin.py)
