"""Each policy of the hardened profile on hand-written passing and failing resources."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from policy import rules
from policy.rules import NETWORK, SECRET, SERVICE, SERVICE_CONFIG, Context

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
DEFAULT = Context()
ALLOW_LATEST = Context(allow_latest_connectors=True)


def service(**labels: str) -> dict[str, Any]:
    """A compliant service in the provider's wire form (camelCase)."""
    return {
        "name": "svc",
        "mode": {"replicated": {"replicas": 1}},
        "labels": [
            {"label": "com.docker.stack.namespace", "value": "agent-os"},
            {"label": "agent-os.layer", "value": "core"},
            *({"label": k, "value": v} for k, v in labels.items()),
        ],
        "taskSpec": {
            "containerSpec": {
                "image": "docker.io/library/caddy:2.10.2-alpine",
                "env": {
                    "LOG_LEVEL": "info",
                    "DB_PASSWORD": "/run/secrets/db-password",
                    "API_TOKEN": "vault://secret/data/api#token",
                },
                "healthcheck": {"tests": ["CMD-SHELL", "true"], "interval": "15s"},
            },
            "resources": {"limits": {"memoryBytes": 268435456.0, "nanoCpus": 5e8}},
            "restartPolicy": {"condition": "any", "delay": "5s"},
        },
        "updateConfig": {"failureAction": "rollback", "order": "start-first"},
        "rollbackConfig": {"failureAction": "pause", "order": "start-first"},
        "endpointSpec": {"mode": "vip"},
    }


def network(**over: Any) -> dict[str, Any]:
    return {"name": "agent-os-core", "driver": "overlay", "options": {"encrypted": "true"}, **over}


def hashed(name: str, content: bytes) -> dict[str, Any]:
    return {
        "name": f"agent-os-{name}-{hashlib.sha256(content).hexdigest()[:12]}",
        "data": base64.b64encode(content).decode(),
    }


def names(type_: str, props: dict[str, Any], ctx: Context = DEFAULT) -> set[str]:
    return {name for name, _ in rules.violations(type_, props, ctx)}


def mutated(change: Callable[[dict[str, Any]], None], base: dict[str, Any] | None = None) -> dict[str, Any]:
    props = copy.deepcopy(base if base is not None else service())
    change(props)
    return props


def test_compliant_resources_pass() -> None:
    assert rules.violations(SERVICE, service(), DEFAULT) == []
    assert rules.violations(NETWORK, network(), DEFAULT) == []
    assert rules.violations(SERVICE_CONFIG, hashed("caddyfile", b":80 {}\n"), DEFAULT) == []
    assert rules.violations(SECRET, hashed("pg", b"s3cret"), DEFAULT) == []


def test_policies_are_named_once_and_cover_the_profile() -> None:
    assert sorted(p.name for p in rules.POLICIES) == sorted(
        {
            "service-healthcheck",
            "service-memory-limit",
            "service-restart-rollback",
            "service-ports-edge-only",
            "service-no-secret-env",
            "image-pinned",
            "network-encrypted-overlay",
            "content-named-objects",
        }
    )


def _del(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(p: dict[str, Any]) -> None:
        for k in parents:
            p = p[k]
        del p[last]

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(p: dict[str, Any]) -> None:
        for k in parents:
            p = p[k]
        p[last] = value

    return change


SERVICE_FAILURES = [
    ("service-healthcheck", _del("taskSpec.containerSpec.healthcheck")),
    ("service-healthcheck", _set("taskSpec.containerSpec.healthcheck.tests", ["NONE"])),
    ("service-healthcheck", _set("taskSpec.containerSpec.healthcheck.tests", [])),
    ("service-memory-limit", _del("taskSpec.resources")),
    ("service-memory-limit", _set("taskSpec.resources.limits.memoryBytes", 0)),
    ("service-restart-rollback", _set("taskSpec.restartPolicy.condition", "none")),
    ("service-restart-rollback", _del("taskSpec.restartPolicy")),
    ("service-restart-rollback", _set("updateConfig.failureAction", "pause")),
    ("service-restart-rollback", _del("updateConfig")),
    ("service-restart-rollback", _del("rollbackConfig")),
    ("service-ports-edge-only", _set("endpointSpec.ports", [{"targetPort": 80, "publishedPort": 8080}])),
    ("service-no-secret-env", _set("taskSpec.containerSpec.env.DB_PASSWORD", "hunter2")),
    ("service-no-secret-env", _set("taskSpec.containerSpec.env.OPENAI_API_KEY", "sk-abc")),
    ("service-no-secret-env", _set("taskSpec.containerSpec.env.SESSION_SECRET", "/etc/secret")),
    ("service-no-secret-env", _set("taskSpec.containerSpec.env.GH_TOKEN", "vault://")),
    ("image-pinned", _set("taskSpec.containerSpec.image", "docker.io/library/caddy:latest")),
    ("image-pinned", _set("taskSpec.containerSpec.image", "docker.io/library/caddy")),
    ("image-pinned", _set("taskSpec.containerSpec.image", "registry.internal:5000/caddy")),
    ("image-pinned", _del("taskSpec.containerSpec.image")),
]


@pytest.mark.parametrize(("policy", "change"), SERVICE_FAILURES)
def test_each_service_policy_fails_on_its_violation_only(
    policy: str, change: Callable[[dict[str, Any]], None]
) -> None:
    assert names(SERVICE, mutated(change)) == {policy}


def test_edge_services_may_publish_ports() -> None:
    edge = mutated(_set("labels", [{"label": "agent-os.layer", "value": "edge"}]))
    edge["endpointSpec"]["ports"] = [{"targetPort": 443, "publishedPort": 443, "publishMode": "host"}]
    assert names(SERVICE, edge) == set()
    # The layer label decides, not the name.
    named_edge = mutated(_set("name", "caddy"))
    named_edge["endpointSpec"]["ports"] = [{"targetPort": 443, "publishedPort": 443}]
    assert names(SERVICE, named_edge) == {"service-ports-edge-only"}


def test_secret_env_accepts_files_and_references_only() -> None:
    for ok in ("/run/secrets/x", "vault://kv/x#y", "env://OTHER_VAR", "secret://pg-password"):
        assert names(SERVICE, mutated(_set("taskSpec.containerSpec.env.X_PASSWORD", ok))) == set(), ok
    # Names that merely contain the word are not secret-looking.
    assert names(SERVICE, mutated(_set("taskSpec.containerSpec.env.PASSWORD_FILE", "/x"))) == set()
    assert names(SERVICE, mutated(_set("taskSpec.containerSpec.env.KEYCLOAK_URL", "http://k"))) == set()


def test_pinned_images_pass_by_tag_or_digest() -> None:
    for ref in (
        "docker.io/apache/kafka:4.1.0",
        "registry.internal:5000/library/caddy:2.10.2",
        "ghcr.io/x/y@sha256:" + "a" * 64,
        "ghcr.io/x/y:latest@sha256:" + "b" * 64,
    ):
        assert names(SERVICE, mutated(_set("taskSpec.containerSpec.image", ref))) == set(), ref


def test_latest_only_for_labelled_connectors_when_the_stack_allows_it() -> None:
    latest = _set("taskSpec.containerSpec.image", "knucklessg1/arr-mcp:latest")
    connector = mutated(latest, service(**{"agent-os.kind": "connector"}))
    assert names(SERVICE, connector, ALLOW_LATEST) == set()
    assert names(SERVICE, connector, DEFAULT) == {"image-pinned"}
    # Not a connector (no label, or another kind): never, whatever the stack says.
    assert names(SERVICE, mutated(latest), ALLOW_LATEST) == {"image-pinned"}
    other = mutated(latest, service(**{"agent-os.kind": "gateway"}))
    assert names(SERVICE, other, ALLOW_LATEST) == {"image-pinned"}


def test_context_reads_allow_latest_connectors_from_stack_config() -> None:
    assert Context.from_stack_config({}) == DEFAULT
    assert Context.from_stack_config({"agent-os:images": {"allowLatestConnectors": True}}) == ALLOW_LATEST
    assert Context.from_stack_config({"agent-os:images": '{"allowLatestConnectors": true}'}) == ALLOW_LATEST
    assert Context.from_stack_config({"agent-os:images": {"mirror": "r:5000"}}) == DEFAULT


@pytest.mark.parametrize(
    "props",
    [
        network(options={}),
        network(options={"encrypted": "false"}),
        network(options=None),
        network(driver="bridge"),
        {"name": "agent-os-core", "options": {"encrypted": "true"}},  # default driver: bridge
    ],
)
def test_network_policy_fails_on_plain_or_local_networks(props: dict[str, Any]) -> None:
    assert names(NETWORK, props) == {"network-encrypted-overlay"}


def test_network_encrypted_option_present_passes() -> None:
    assert (
        names(NETWORK, network(options={"encrypted": "", "com.docker.network.driver.mtu": "1400"})) == set()
    )


@pytest.mark.parametrize("type_", [SERVICE_CONFIG, SECRET])
def test_content_named_objects_fail_when_name_and_content_disagree(type_: str) -> None:
    good = hashed("x", b"v1")
    stale = {**good, "data": base64.b64encode(b"v2").decode()}
    assert names(type_, stale) == {"content-named-objects"}
    fixed = {**good, "name": "agent-os-x"}
    assert names(type_, fixed) == {"content-named-objects"}
    assert names(type_, {**good, "data": "not base64!"}) == {"content-named-objects"}


def test_unknown_values_at_preview_are_skipped_not_reported() -> None:
    s = service()
    s["taskSpec"]["containerSpec"]["image"] = UNKNOWN
    s["taskSpec"]["containerSpec"]["env"]["DB_PASSWORD"] = UNKNOWN
    s["taskSpec"]["containerSpec"]["healthcheck"] = UNKNOWN
    s["taskSpec"]["resources"]["limits"]["memoryBytes"] = UNKNOWN
    s["endpointSpec"] = UNKNOWN
    assert rules.violations(SERVICE, s, DEFAULT) == []
    assert rules.violations(SECRET, {"name": UNKNOWN, "data": UNKNOWN}, DEFAULT) == []
    assert rules.violations(SECRET, {**hashed("x", b"v"), "data": UNKNOWN}, DEFAULT) == []
    assert rules.violations(NETWORK, network(options={"encrypted": UNKNOWN}), DEFAULT) == []
    # A known violation next to an unknown value is still reported.
    s["taskSpec"]["restartPolicy"]["condition"] = "none"
    assert names(SERVICE, s) == {"service-restart-rollback"}


def test_policies_only_look_at_their_resource_types() -> None:
    assert rules.violations("docker:index/volume:Volume", {}, DEFAULT) == []
    assert names(SERVICE, {}) >= {"service-healthcheck", "service-memory-limit", "image-pinned"}
