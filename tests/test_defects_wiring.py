"""Defects found by reading the rendered stacks against the recipe and the pinned app
(issue 14): each test reads what the program renders, never a value it computes."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.data.sql import tenant_rls_sql
from tests.conftest import STACKS, evaluate, evaluate_with_webui
from tests.fleet.fleethelp import CONFIG_TYPE, container, mounted_config
from tools import mockrun

CLIENT = "keycloak:openid/client:Client"
# The pinned app's gauge of unclaimed dispatched turns (agent_utilities 0.52.0,
# observability/gateway_metrics.py: DISPATCH_QUEUE_DEPTH); the ingest one is
# agent_utilities_kg_ingest_queue_depth.
DISPATCH_DEPTH_METRIC = "agent_utilities_dispatch_queue_depth"


def _config_text(run: mockrun.Run, name: str) -> str:
    return mockrun.b64decode(run.one(CONFIG_TYPE, name).inputs["data"])


def _site_of(caddyfile: str, upstream_service: str) -> str:
    """The site address whose reverse_proxy sends to `upstream_service`."""
    sites = re.findall(r"^(\S+) \{\n(.*?)^\}", caddyfile, flags=re.M | re.S)
    found = [site for site, body in sites if re.search(rf"reverse_proxy [^\n]*\b{upstream_service}:", body)]
    assert len(found) == 1, (upstream_service, found)
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_webui_login_redirects_to_the_host_caddy_serves_the_webui_on(stack: str) -> None:
    run = evaluate_with_webui(stack)
    site = _site_of(_config_text(run, "caddyfile"), "agent-webui")
    client = run.one(CLIENT, "client-agent-webui").inputs
    assert client["validRedirectUris"] == [f"https://{site}/*"]
    assert client["webOrigins"] == [f"https://{site}"]
    assert container(run, "agent-webui")["env"]["WEBUI_PUBLIC_URL"] == f"https://{site}"


@pytest.mark.parametrize("stack", STACKS)
def test_dispatch_queue_alert_watches_the_dispatch_queue(stack: str) -> None:
    rules = yaml.safe_load(_config_text(evaluate(stack), "prometheus-rules"))
    by_name = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    expr = by_name["DispatchQueueDepthHigh"]["expr"]
    assert DISPATCH_DEPTH_METRIC in expr and "kg_ingest" not in expr


@pytest.mark.parametrize("stack", STACKS)
def test_app_partition_settings_match_the_topics_kafka_init_creates(stack: str) -> None:
    run = evaluate(stack)
    created = {
        line.split()[0]: int(line.split()[1])
        for line in _config_text(run, "kafka-topics").splitlines()
        if line
    }
    doc = json.loads(mounted_config(run, "agent-gateway", "/etc/agent-utilities/config.json"))
    assert doc["kg_tasks_partitions"] == created["kg_tasks"]
    assert doc["agent_turns_partitions"] == created["agent_turns"]


def test_partition_settings_follow_a_changed_topic_size() -> None:
    values, _ = mockrun.stack_config("staging")
    data = dict(values["agent-os:data"])
    data["kafka"] = {**data["kafka"], "partitions": {"kgTasks": 12, "kgStaging": 1, "agentTurns": 9}}
    run = mockrun.run("staging", overrides={"agent-os:data": data})
    doc = json.loads(mounted_config(run, "kg-daemon", "/etc/agent-utilities/config.json"))
    assert (doc["kg_tasks_partitions"], doc["agent_turns_partitions"]) == (12, 9)


@pytest.mark.parametrize("stack", STACKS)
def test_kg_daemon_requires_the_fleet_events_token_like_the_gateway(stack: str) -> None:
    run = evaluate(stack)
    for service in ("agent-gateway", "kg-daemon"):
        targets = [s["fileName"] for s in container(run, service).get("secrets") or []]
        assert any(t.endswith("/fleet_events_token") for t in targets), (service, targets)


@pytest.mark.parametrize("stack", STACKS)
def test_vault_url_is_not_a_single_raft_member(stack: str) -> None:
    run = evaluate(stack)
    doc = json.loads(mounted_config(run, "agent-gateway", "/etc/agent-utilities/config.json"))
    host = doc["secrets_vault_url"].split("://", 1)[1].split(":", 1)[0]
    members = [n for n in run.services() if re.fullmatch(r"bao-\d+", n)]
    assert host not in members
    # Every member answers to that name on the network the app shares with OpenBao.
    for m in members:
        nets = run.services()[m].plain["taskSpec"]["networksAdvanceds"]
        assert any(host in (n.get("aliases") or []) for n in nets), m


@pytest.mark.parametrize("stack", STACKS)
def test_app_services_wait_for_the_graph_and_the_extensions(stack: str) -> None:
    run = evaluate(stack)
    graph = run.one("command:local:Command", "age-graph").urn
    extensions = {r.urn for r in run.by_type("postgresql:index/extension:Extension")}
    assert {r.inputs["name"] for r in run.by_type("postgresql:index/extension:Extension")} >= {
        "age",
        "vector",
    }
    for name in ("agent-gateway", "kg-daemon", "graph-os", "kg-ingest-worker"):
        deps = set(run.services()[name].dependencies)
        assert graph in deps and extensions <= deps, name


@pytest.mark.parametrize("stack", STACKS)
def test_the_realm_has_a_first_platform_admin_with_both_admin_roles(stack: str) -> None:
    run = evaluate(stack)
    users = run.by_type("keycloak:index/user:User")
    assert [u.inputs["username"] for u in users] == ["platform-admin"]
    user = users[0]
    assert user.inputs["enabled"] is True
    creds = user.inputs["initialPassword"]
    assert mockrun.is_secret(creds["value"])
    assert mockrun.unwrap(creds)["temporary"] is False
    assert mockrun.unwrap(creds)["value"] == mockrun.fake_password("platformAdminPassword", 32)
    # Keycloak's default user profile requires email, first and last name: without them the
    # first browser login stops at "Update Account Information" (VERIFY_PROFILE; found by
    # journey b on the deployed stack). The address defaults to the user at the stack's zone.
    zone = run.outputs["zone"]
    assert user.inputs["email"] == f"platform-admin@{zone}" and user.inputs["emailVerified"] is True
    assert user.inputs["firstName"] and user.inputs["lastName"]
    (roles,) = run.by_type("keycloak:index/userRoles:UserRoles")
    role_names = {r.inputs["name"]: r.id for r in run.by_type("keycloak:index/role:Role")}
    assert sorted(roles.inputs["roleIds"]) == sorted([role_names["kg:admin"], role_names["webui:admin"]])


@pytest.mark.parametrize("stack", STACKS)
def test_geniusbot_signs_in_with_its_own_loopback_client(stack: str) -> None:
    run = evaluate(stack)
    client = run.one(CLIENT, "client-geniusbot").inputs
    assert client["accessType"] == "PUBLIC" and client["pkceCodeChallengeMethod"] == "S256"
    assert client["validRedirectUris"] == ["http://127.0.0.1/*", "http://[::1]/*"]
    assert run.outputs["geniusbot"]["clientId"] == "geniusbot"


def test_terminal_ui_is_off_by_default_and_refused_while_auth_is_required() -> None:
    assert "agent-terminal-ui" not in evaluate("staging").services()
    values, _ = mockrun.stack_config("staging")
    fleet = {**values["agent-os:fleet"], "terminalUi": {"enabled": True}}
    with pytest.raises(Exception, match=r"agent-os:fleet\.terminalUi\.enabled"):
        mockrun.run("staging", overrides={"agent-os:fleet": fleet})
    run = mockrun.run(
        "staging", overrides={"agent-os:fleet": fleet, "agent-os:app": {"kgAuthRequired": False}}
    )
    assert "agent-terminal-ui" in run.services()


def test_the_platform_admin_credentials_are_a_stack_output() -> None:
    out = evaluate("staging").outputs["platformAdmin"]
    assert out == {
        "username": "platform-admin",
        "password": mockrun.fake_password("platformAdminPassword", 32),
    }


@pytest.mark.parametrize("stack", STACKS)
def test_tenant_rls_is_applied_as_the_table_owner_after_the_app_made_its_tables(stack: str) -> None:
    run = evaluate(stack)
    rls = run.one("command:local:Command", "tenant-rls")
    env = rls.inputs["environment"]
    # The SQL validated on a real Postgres (tests/verify/test_verify_artifacts.py).
    assert mockrun.unwrap(env["AGENT_OS_SQL"]) == tenant_rls_sql()
    assert mockrun.is_secret(env["PGPASSWORD"])
    assert mockrun.unwrap(env["PGPASSWORD"]) == mockrun.fake_password("agentDbPassword", 32)
    create = rls.inputs["create"]
    assert "user=agent" in create and "dbname=agent_kg" in create and "dbname=agent_state" in create
    deps = set(rls.dependencies)
    for service in ("agent-gateway", "kg-daemon"):
        assert run.services()[service].urn in deps, service


@pytest.mark.parametrize("stack", STACKS)
def test_every_database_is_made_from_a_template_that_has_age(stack: str) -> None:
    """With AGE 1.5 preloaded, DROP-type DDL fails in any database without the extension
    (apache/age#2180; found by Keycloak's migration on the real image): template1 gets it
    first, so every database the stack creates inherits it.

    The provider creates a database from `template0` unless told otherwise (upstream's
    createDatabase: no `template` -> `TEMPLATE template0`; found by the deploying provider),
    so each database names template1 explicitly."""
    run = evaluate(stack)
    (template,) = [
        r
        for r in run.by_type("postgresql:index/extension:Extension")
        if r.inputs["name"] == "age" and r.inputs["database"] == "template1"
    ]
    dbs = run.by_type("postgresql:index/database:Database")
    assert {d.inputs["name"] for d in dbs} >= {"agent_kg", "agent_state", "keycloak"}
    for d in dbs:
        assert template.urn in d.dependencies, d.name
        assert d.inputs.get("template") == "template1", d.name


@pytest.mark.parametrize("stack", STACKS)
def test_kafka_heap_fits_inside_the_brokers_memory_limit(stack: str) -> None:
    """kafka-server-start.sh defaults to -Xmx1G -Xms1G: with staging's 1g limit the JVM heap
    alone would fill the container (found running the real broker)."""
    run = evaluate(stack)
    svc = run.services()["kafka-1"].plain
    limit = svc["taskSpec"]["resources"]["limits"]["memoryBytes"]
    opts = container(run, "kafka-1")["env"]["KAFKA_HEAP_OPTS"]
    xmx = re.search(r"-Xmx(\d+)m", opts)
    assert xmx and int(xmx.group(1)) * 1024**2 <= limit // 2


def test_the_webui_is_off_by_default_and_needs_a_verified_image() -> None:
    assert "agent-webui" not in evaluate("staging").services()
    values, _ = mockrun.stack_config("staging")
    fleet = {**values["agent-os:fleet"], "webui": {"enabled": True}}
    with pytest.raises(Exception, match=r"agent-os:fleet\.webui\.enabled: agent-webui 0\.43\.0"):
        mockrun.run("staging", overrides={"agent-os:fleet": fleet})
    assert "agent-webui" in evaluate_with_webui("staging").services()


@pytest.mark.parametrize("stack", STACKS)
def test_every_browser_client_has_somewhere_to_return_to(stack: str) -> None:
    """Keycloak (and the provider, at create) refuses a client with the standard flow and no
    redirect URI. With the webui off, no route serves it, so staging planned its client with
    none and `pulumi up` failed there (found by the deploying keycloak provider)."""
    for run in (evaluate(stack), evaluate_with_webui(stack)):
        for c in run.by_type("keycloak:openid/client:Client"):
            if c.inputs.get("standardFlowEnabled") or c.inputs.get("implicitFlowEnabled"):
                assert c.inputs.get("validRedirectUris"), c.name
    names = {
        c.inputs["clientId"] for c in evaluate_with_webui(stack).by_type("keycloak:openid/client:Client")
    }
    assert "agent-webui" in names  # the webui, when enabled, still signs in through its client


@pytest.mark.parametrize("stack", STACKS)
def test_a_broker_is_healthy_once_its_controller_listens_before_the_quorum_exists(stack: str) -> None:
    """Swarm puts a task in DNS only once it is healthy. The KRaft voters are the brokers'
    service names, so a health check that needs the quorum (kafka-broker-api-versions) can
    never pass: no voter resolves until one is healthy (found deploying staging: kafka-1
    logged UnknownHostException for itself until Swarm gave up). The check is the controller
    listener's accept, which opens before the quorum forms."""
    run = evaluate(stack)
    brokers = [n for n in run.services() if re.fullmatch(r"kafka-\d+", n)]
    assert brokers
    for name in brokers:
        test = " ".join(container(run, name)["healthcheck"]["tests"])
        assert "kafka-broker-api-versions" not in test
        assert "/dev/tcp/127.0.0.1/9093" in test


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_role_may_use_the_age_graph_the_superuser_makes(stack: str) -> None:
    """The graph is made by the superuser; the app's role `agent` had no USAGE on ag_catalog
    or the graph's schema ("permission denied for schema ag_catalog"), and only the owner of
    the graph's base tables can add a label ("must be owner of table _ag_label_vertex"; both
    found by journey f on the deployed stack): the graph is handed to the app role."""
    run = evaluate(stack)
    graph = run.one("command:local:Command", "age-graph").plain
    sql = graph["environment"]["AGENT_OS_SQL"]
    role = mockrun.stack_model(stack).data.postgres.app_role
    for grant in (
        f"GRANT USAGE ON SCHEMA ag_catalog TO {role};",
        f"ALTER SCHEMA agent_graph OWNER TO {role};",
        "ALTER TABLE %I.%I OWNER TO %I",
        # the graph's own sequences belong to no table; a table's cannot change owner alone
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA agent_graph TO {role};",
    ):
        assert grant in sql
    assert "ALTER SEQUENCE" not in sql
    assert sql.index("create_graph") < sql.index("ALTER SCHEMA agent_graph OWNER")
