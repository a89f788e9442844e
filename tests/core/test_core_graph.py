"""Readiness gates stand between each service and its provider's resources."""

from __future__ import annotations

import pytest

from tests.conftest import STACKS, evaluate
from tests.core.helpers import COMMAND, urn
from tools import mockrun
from tools.graph import Dag


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_service_gate_provider_realm(stack: str) -> None:
    run = evaluate(stack)
    dag = Dag.of(run)
    svc = run.services()["keycloak"].urn
    gate = urn(run, COMMAND, "keycloak-ready")
    provider = urn(run, "pulumi:providers:keycloak", "keycloak")
    realm = urn(run, "keycloak:index/realm:Realm", "realm-agents")
    assert svc in dag.deps[gate] and gate in dag.deps[provider]
    assert dag.reaches(gate, realm) and dag.reaches(svc, realm)
    # Through Caddy: the gate also waits for the edge.
    assert run.services()["caddy"].urn in dag.deps[gate]
    # Keycloak's database exists before Keycloak starts.
    db = urn(run, "postgresql:index/database:Database", "db-keycloak")
    assert dag.reaches(urn(run, COMMAND, "postgres-ready"), db) and dag.reaches(db, svc)
    for mapping in run.by_type("keycloak:openid/clientServiceAccountRealmRole:ClientServiceAccountRealmRole"):
        assert dag.reaches(gate, mapping.urn)


@pytest.mark.parametrize("stack", STACKS)
def test_openbao_members_gate_init_gate_provider_kv(stack: str) -> None:
    run = evaluate(stack)
    dag = Dag.of(run)
    reachable = urn(run, COMMAND, "openbao-reachable")
    init = urn(run, COMMAND, "openbao-init")
    unsealed = urn(run, COMMAND, "openbao-unsealed")
    provider = urn(run, "pulumi:providers:vault", "vault")
    kv = urn(run, "vault:index/mount:Mount", "kv")
    members = [r.urn for n, r in run.services().items() if n.startswith("bao-")]
    assert members and set(members) <= dag.deps[reachable]
    assert reachable in dag.deps[init] and init in dag.deps[unsealed] and unsealed in dag.deps[provider]
    assert dag.reaches(unsealed, kv)
    for r in run.resources:
        if r.custom and r.type.startswith("vault:"):
            assert dag.reaches(unsealed, r.urn), r.name


def test_portainer_gate_before_api_steps(staging: mockrun.Run) -> None:
    dag = Dag.of(staging)
    gate = urn(staging, COMMAND, "portainer-ready")
    assert staging.services()["portainer"].urn in dag.deps[gate]
    oauth = urn(staging, COMMAND, "portainer-oauth")
    assert gate in dag.deps[oauth]
    # SSO is switched on only once the portainer client exists in Keycloak.
    client = [c.urn for c in staging.by_type("keycloak:openid/client:Client") if c.name == "client-portainer"]
    assert client and dag.reaches(client[0], oauth)


def test_gitops_binding_when_on(run_with) -> None:  # type: ignore[no-untyped-def]
    run = run_with(
        "staging",
        overrides={
            "agent-os:integrations": {"gitops": True, "portainer": True},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://git.example/org/stacks.git"}}},
        },
        secrets={"agent-os:gitToken": "glpat-test-token"},
    )
    dag = Dag.of(run)
    gitops = run.one(COMMAND, "portainer-gitops")
    assert urn(run, COMMAND, "portainer-ready") in dag.deps[gitops.urn]
    env = gitops.inputs["environment"]
    assert "portainerctl.py gitops" in gitops.inputs["create"]
    assert mockrun.is_secret(env["GIT_TOKEN"]) and mockrun.is_secret(env["PT_PASSWORD"])
    assert '"repo_url"' in env["GIT_JSON"]


def test_core_services_are_not_chained_to_each_other(enterprise: mockrun.Run) -> None:
    dag = Dag.of(enterprise)
    s = {n: r.urn for n, r in enterprise.services().items()}
    for a, b in [
        ("keycloak", "bao-1"),
        ("bao-1", "bao-2"),
        ("grafana", "keycloak"),
        ("prometheus", "portainer"),
    ]:
        assert not dag.reaches(s[a], s[b]) and not dag.reaches(s[b], s[a]), (a, b)
    # Grafana gets its OIDC secret without waiting for Keycloak's realm.
    realm = urn(enterprise, "keycloak:index/realm:Realm", "realm-agents")
    assert not dag.reaches(realm, s["grafana"])
