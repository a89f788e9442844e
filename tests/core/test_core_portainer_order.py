"""Portainer's API gate and GitOps never wait for Keycloak; only the SSO step does."""

from __future__ import annotations

from tools import mockrun
from tools.graph import Dag


def test_portainer_gate_is_independent_of_keycloak_but_sso_waits_for_the_client() -> None:
    values, _ = mockrun.stack_config("enterprise")
    run = mockrun.run(
        "enterprise",
        overrides={
            "agent-os:integrations": {**values["agent-os:integrations"], "gitops": True},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://git.example/org/stacks.git"}}},
        },
    )
    dag = Dag.of(run)
    client = run.one("keycloak:openid/client:Client", "client-portainer").urn
    realm = run.one("keycloak:index/realm:Realm", "realm-agents").urn
    gate = run.one("command:local:Command", "portainer-ready").urn
    oauth = run.one("command:local:Command", "portainer-oauth").urn
    gitops = run.one("command:local:Command", "portainer-gitops").urn
    assert not dag.reaches(realm, gate)
    assert not dag.reaches(realm, gitops)
    assert dag.reaches(client, oauth) and dag.reaches(gate, oauth)
