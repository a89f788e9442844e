"""c. Two tenants' knowledge through the gateway lands on the shards our rendezvous router
names, after staging is raised from 1 to 2 engine shards by a real `pulumi up`.

The re-shard is also the engine's change test (issue 13): with the exact acknowledgement, the
second shard is created and only what names the shard endpoints changes (asserted as a set).

What 0.52.0 does with a tenant, and so what this journey can assert (evidence from the
pinned agent-utilities):
- A request's tenant comes only from its JWT (`tenant_id|tenant|org_id|tid`,
  agent_utilities/security/request_identity.py:148-194). The program's realm issues no
  tenant claim, so the test gives each tenant a Keycloak client of its own with a hardcoded
  `tenant_id` claim (set up, and removed, through Keycloak's admin API as the operator).
- The gateway's KG routes all use one process-wide engine, built at start-up by a background
  thread (mcp/kg_server.py:2409-2433, `_bootstrap_engine` -> `_get_engine`) with no tenant in
  scope, so its graph is the base graph `__commons__` (knowledge_graph/core/graph_compute.py:
  282-291). A tenant token's write through the REST API therefore lands in `__commons__` on
  that graph's HRW shard, whatever the tenant: asserted as such (it tells us when a release
  routes per request).
- Per-tenant placement is what the app's engine client does when a tenant is the ambient
  actor (graph_compute.py:282-291 -> shard_topology.resolve_routing_graph/
  shard_endpoint_for, the factory of its tenant engine pool). The journey runs exactly that
  in the gateway's task, with the gateway's own config and secrets, for both tenants.

Placement is read back from the engines themselves (ListGraphs and GetNodes over their
msgpack-over-TCP protocol, inside the gateway's task), and from the gateway's
`/api/dashboard/daemon/shards`. The file runs after the other journeys (its name sorts after
theirs) and leaves the stack at 2 shards."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from components.day0.labels import apply_locally
from shards.plan import host_and_port
from shards.routing import choose_shard, routing_key
from tests.stack import stackhelp
from tests.stack.journeyhelp import (
    Https,
    Stack,
    bearer,
    client_credentials_token,
    exec_python,
    in_app,
    journey,
    jwt_claims,
    password_token,
    token_url,
)
from tools import mockrun

REALM = "agents"
GATEWAY = "agent-gateway"
API_CLIENT = "agent-utilities"  # the gateway's JWT audience
WRITE_ROLE = "kg:write"
NEW_LABEL = "kg-shard-2"
# The agent-utilities processes: each reads the shard endpoints from its config.json.
APP_PROCESSES = ["agent-dispatch-worker", "agent-gateway", "graph-os", "kg-daemon", "kg-ingest-worker"]


@pytest.fixture(scope="module")
def resharded(staging: stackhelp.Deployment) -> dict[str, list[str]]:
    """Staging raised to 2 shards as the README has the operator do it: label a node for the
    new shard (Day 0, provision off), set the count with the exact acknowledgement, `up`,
    then drop the acknowledgement so it cannot approve a later change."""
    (host,) = mockrun.stack_model(stackhelp.STACK).inventory.hosts
    apply_locally(host.model_copy(update={"labels": {**host.labels, NEW_LABEL: "true"}}))
    staging.config_set(f'agent-os:inventory.hosts[0].labels["{NEW_LABEL}"]', "true")
    staging.config_set("agent-os:shards.count", "2")
    staging.config_set("agent-os:shards.acknowledgeReshard.from", "1")
    staging.config_set("agent-os:shards.acknowledgeReshard.to", "2")
    res = staging.up("re-shard 1 -> 2")
    staging.pulumi("config", "rm", "--path", "agent-os:shards.acknowledgeReshard")
    return stackhelp.ops(res)


@pytest.mark.engine
def test_resharding_with_the_acknowledgement_touches_only_what_names_the_shards(
    resharded: dict[str, list[str]], staging: stackhelp.Deployment
) -> None:
    # The new shard; the app's config.json (a Docker config named by its content, one for the
    # clients and one for the KG host) and the processes that mount it; Prometheus's scrape
    # config and its alert rules (one job and one alert per shard); the Day-0 label check.
    assert resharded == {
        "create": ["kg-shard-2"],
        "replace": sorted(
            ["fleet-config-json-client", "fleet-config-json-host", "prometheus-rules", "prometheus-yml"]
        ),
        "update": sorted([*APP_PROCESSES, "prometheus", "swarm-labels-ready"]),
    }
    assert stackhelp.service_replicas()["kg-shard-2"] == (1, 1)
    assert not stackhelp.unhealthy_tasks()
    out = staging.outputs()
    assert out["shardEndpoints"] == ["tcp://kg-shard-1:9101", "tcp://kg-shard-2:9102"]
    assert out["shardMode"] == "sharded"
    again = staging.pulumi("preview", "--expect-no-changes", "--json", check=False)
    assert again.code == 0, "\n".join(stackhelp.errors(again))


class TenantClients:
    """Per-tenant Keycloak clients (client credentials, `tenant_id` claim, the API audience,
    the realm's write role), made and removed through the admin API as the operator."""

    def __init__(self, stack: Stack) -> None:
        self.https: Https = stack.https
        self.sso = stack.urls["sso"]
        self.admin = (
            stack.inputs("keycloak-admin-password", "command:local:Command")["environment"]["KC_ADMIN_USER"],
            stack.random_password("keycloakAdminPassword"),
        )
        self.run = secrets.token_hex(3)  # client ids of this run (a failed run's are left apart)
        self.made: list[str] = []

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        # A token per call: the master realm's admin tokens live 60 s.
        token = password_token(self.https, token_url(self.sso, "master"), "admin-cli", *self.admin)
        headers = {**bearer(token), "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        res = self.https.request(method, f"{self.sso}/admin/realms/{REALM}{path}", headers, data)
        assert res.status in (200, 201, 204), f"{method} {path}: {res.status} {res.text[:500]}"
        return res.json() if res.body else None

    def token(self, tenant: str) -> str:
        client_id, secret = f"journey-c-{self.run}-{tenant}", secrets.token_urlsafe(24)
        mapper = "oidc-hardcoded-claim-mapper"
        self._admin(
            "POST",
            "/clients",
            {
                "clientId": client_id,
                "publicClient": False,
                "secret": secret,
                "serviceAccountsEnabled": True,
                "standardFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "protocolMappers": [
                    {
                        "name": "tenant",
                        "protocol": "openid-connect",
                        "protocolMapper": mapper,
                        "config": {
                            "claim.name": "tenant_id",
                            "claim.value": tenant,
                            "jsonType.label": "String",
                            "access.token.claim": "true",
                        },
                    },
                    {
                        "name": "api-audience",
                        "protocol": "openid-connect",
                        "protocolMapper": "oidc-audience-mapper",
                        "config": {"included.client.audience": API_CLIENT, "access.token.claim": "true"},
                    },
                ],
            },
        )
        (made,) = self._admin("GET", f"/clients?clientId={client_id}")
        self.made.append(made["id"])
        user = self._admin("GET", f"/clients/{made['id']}/service-account-user")
        role = self._admin("GET", f"/roles/{WRITE_ROLE}")
        self._admin("POST", f"/users/{user['id']}/role-mappings/realm", [role])
        token = client_credentials_token(self.https, token_url(self.sso, REALM), client_id, secret)
        claims = jwt_claims(token)
        assert claims["tenant_id"] == tenant and WRITE_ROLE in claims["realm_access"]["roles"], claims
        return token

    def remove(self) -> None:
        for cid in self.made:
            self._admin("DELETE", f"/clients/{cid}")


@pytest.fixture(scope="module")
def tenant_clients(staging: stackhelp.Deployment) -> Iterator[TenantClients]:
    clients = TenantClients(Stack(staging))
    yield clients
    clients.remove()


# Runs in the gateway's task with the app process's own environment (config path, the
# secrets with-secrets exported): the app's engine client, one tenant at a time as the
# ambient actor, adds one node to what it resolves as that tenant's graph.
TENANT_WRITES = r"""
import json, os, sys
p = json.load(sys.stdin)
for pid in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        if pid != os.getpid() and b"agent_utilities" in cmd and b"/usr/local/bin/with-secrets" not in cmd:
            raw = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            os.environ.update(dict(kv.decode().split("=", 1) for kv in raw if b"=" in kv))
            break
    except OSError:
        continue
from agent_utilities.knowledge_graph.core.graph_compute import GraphComputeEngine
from agent_utilities.security.brain_context import SYSTEM_ACTOR, use_actor
out = {}
for tenant, node_id in p["nodes"].items():
    with use_actor(SYSTEM_ACTOR.with_tenant(tenant)):
        engine = GraphComputeEngine()
        engine.add_node(node_id, {"name": node_id, "journey": "c"})
        out[tenant] = engine.graph_name
print(json.dumps(out))
"""


def two_tenants(endpoints: list[str]) -> dict[str, str]:
    """The first tenant names (in a fixed order) that our router sends to each shard."""
    chosen: dict[str, str] = {}
    for n in range(100):
        tenant = f"tenant{n}"
        shard = choose_shard(endpoints, routing_key(None, tenant))
        chosen.setdefault(shard, tenant)
        if len(chosen) == len(endpoints):
            return {t: s for s, t in chosen.items()}
    raise AssertionError(f"no tenant name routes to every one of {endpoints}")


def graphs_holding(endpoints: list[str], auth_secret: str, node_id: str) -> dict[str, list[str]]:
    """Endpoint -> the graphs on that engine holding a node `node_id`."""
    found: dict[str, list[str]] = {}
    for ep in endpoints:
        got = in_app(
            {"op": "nodes", "engine": list(host_and_port(ep)), "secret": auth_secret, "needle": node_id}
        )
        found[ep] = sorted({n["graph"] for n in got["nodes"] if n["id"] == node_id})
    return found


@pytest.mark.journeys
def test_c_each_tenants_graph_lands_on_the_shard_our_router_names(
    resharded: dict[str, list[str]], staging: stackhelp.Deployment, tenant_clients: TenantClients
) -> None:
    with journey("c: two tenants → their HRW shards"):
        stack = Stack(staging)
        endpoints = list(stack.outputs["shardEndpoints"])
        assert len(endpoints) == 2
        tenants = two_tenants(endpoints)  # tenant -> the endpoint our router names
        auth_secret = stack.random_password("graphServiceAuthSecret")
        gateway = stack.urls["gateway"]
        run_id = secrets.token_hex(4)

        # The gateway's API with each tenant's token: stored, in the base graph (see above).
        base_shard = choose_shard(endpoints, routing_key(None, None))
        for tenant in tenants:
            token = tenant_clients.token(tenant)
            node_id = f"journey-c-{run_id}-api-{tenant}"
            body = {"action": "add_node", "node_id": node_id, "node_type": "Concept", "properties": "{}"}
            headers = {**bearer(token), "Content-Type": "application/json"}
            res = stack.https.request(
                "POST", f"{gateway}/api/graph/write", headers, json.dumps(body).encode()
            )
            assert res.status == 200, res.text[:500]
            assert res.json().get("status") == "success", res.text[:500]  # tool errors come back as 200
            held = graphs_holding(endpoints, auth_secret, node_id)
            assert held == {ep: (["__commons__"] if ep == base_shard else []) for ep in endpoints}, (
                tenant,
                held,
            )

            shards = stack.https.get(f"{gateway}/api/dashboard/daemon/shards", token)
            assert shards.status == 200, shards.text[:500]
            assert shards.json()["mode"] == "sharded"
            assert [e["endpoint"] for e in shards.json()["endpoints"]] == endpoints
            assert all(e["reachable"] for e in shards.json()["endpoints"]), shards.text

        # The app's own per-tenant path, in the gateway's task: each tenant's graph lands on
        # the shard our router names, and on no other.
        nodes = {tenant: f"journey-c-{run_id}-{tenant}" for tenant in tenants}
        graphs = exec_python(GATEWAY, TENANT_WRITES, {"nodes": nodes})
        for tenant, node_id in nodes.items():
            graph = f"tenant__{tenant}____commons__"
            assert graphs[tenant] == graph
            held = graphs_holding(endpoints, auth_secret, node_id)
            assert held == {ep: ([graph] if ep == tenants[tenant] else []) for ep in endpoints}, (
                tenant,
                held,
            )
        stackhelp.report(f"[c] tenants and their shards: {tenants}")
