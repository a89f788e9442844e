"""Connectors start after the realm exists (its JWKS answers), not after every client."""

from __future__ import annotations

from tests.conftest import evaluate
from tools import mockrun
from tools.graph import Dag


def test_connectors_wait_for_the_realm_only() -> None:
    run = evaluate("enterprise")
    dag = Dag.of(run)
    realm = run.one("keycloak:index/realm:Realm", "realm-agents").urn
    grafana_client = run.one("keycloak:openid/client:Client", "client-grafana").urn
    connectors = [s for n, s in run.services().items() if n.endswith("-mcp")]
    assert len(connectors) == 59
    for c in connectors:
        assert realm in dag.deps[c.urn], c.name
        assert not dag.reaches(grafana_client, c.urn), c.name


def _networks(run: mockrun.Run, name: str) -> set[str]:
    return {n["id"] for n in run.services()[name].plain["taskSpec"]["networksAdvanceds"]}


def test_every_jwt_verifier_reaches_the_jwks_on_a_shared_overlay() -> None:
    run = evaluate("enterprise")
    keycloak = _networks(run, "keycloak")
    verifiers = {
        n: s.plain["taskSpec"]["containerSpec"].get("env") or {}
        for n, s in run.services().items()
        if (s.plain["taskSpec"]["containerSpec"].get("env") or {}).get("AUTH_TYPE") == "jwt"
    }
    assert len(verifiers) >= 59
    for name, env in verifiers.items():
        assert env["FASTMCP_SERVER_AUTH_JWT_JWKS_URI"].startswith("http://keycloak:8080/realms/agents/")
        assert env["FASTMCP_SERVER_AUTH_JWT_ISSUER"] == "https://sso.agents.arpa/realms/agents"
        assert _networks(run, name) & keycloak, f"{name} cannot reach keycloak"
    for app in ("agent-gateway", "graph-os", "kg-daemon"):
        assert _networks(run, app) & keycloak, app
