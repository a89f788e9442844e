"""Connectors start after the realm exists (its JWKS answers), not after every client."""

from __future__ import annotations

from tests.conftest import evaluate
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
