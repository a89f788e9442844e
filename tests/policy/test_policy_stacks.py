"""Every policy over every resource the program registers, for both stacks, under mocks."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import pytest

from policy import rules
from policy.rules import NETWORK, SECRET, SERVICE, SERVICE_CONFIG, Context
from tests.conftest import STACKS, evaluate
from tools import mockrun


def context(stack: str) -> Context:
    values, _ = mockrun.stack_config(stack)
    return Context.from_stack_config(values)


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("stack", STACKS)
def test_stack_has_zero_violations(stack: str, preview: bool) -> None:
    run = evaluate(stack, preview)
    ctx = context(stack)
    found = [(r.type, r.name, *v) for r in run.resources for v in rules.violations(r.type, r.plain, ctx)]
    assert found == []
    # Not vacuous: the resources the policies are about are there.
    for type_ in (SERVICE, NETWORK, SERVICE_CONFIG, SECRET):
        assert run.by_type(type_), type_


def _first(
    run: mockrun.Run, type_: str, pred: Callable[[dict[str, Any]], bool] = lambda p: True
) -> dict[str, Any]:
    return copy.deepcopy(next(r.plain for r in run.by_type(type_) if pred(r.plain)))


def _labels(p: dict[str, Any]) -> dict[str, str]:
    return rules.labels_of(p)


def _not_edge(p: dict[str, Any]) -> bool:
    return _labels(p).get(rules.LAYER_LABEL) != "edge"


def _break_healthcheck(p: dict[str, Any]) -> None:
    del p["taskSpec"]["containerSpec"]["healthcheck"]


def _break_memory(p: dict[str, Any]) -> None:
    p["taskSpec"]["resources"]["limits"].pop("memoryBytes")


def _break_rollback(p: dict[str, Any]) -> None:
    p["updateConfig"]["failureAction"] = "continue"


def _break_ports(p: dict[str, Any]) -> None:
    p["endpointSpec"]["ports"] = [{"targetPort": 5432, "publishedPort": 5432, "protocol": "tcp"}]


def _break_env(p: dict[str, Any]) -> None:
    p["taskSpec"]["containerSpec"].setdefault("env", {})["POSTGRES_PASSWORD"] = "plain-text"


def _break_image(p: dict[str, Any]) -> None:
    image = p["taskSpec"]["containerSpec"]["image"]
    p["taskSpec"]["containerSpec"]["image"] = image.rsplit(":", 1)[0] + ":latest"


def _break_network(p: dict[str, Any]) -> None:
    p["options"].pop("encrypted")


def _break_content(p: dict[str, Any]) -> None:
    p["data"] = base64.b64encode(base64.b64decode(p["data"]) + b"\n").decode()


BREAKS = [
    ("service-healthcheck", SERVICE, _not_edge, _break_healthcheck),
    ("service-memory-limit", SERVICE, _not_edge, _break_memory),
    ("service-restart-rollback", SERVICE, _not_edge, _break_rollback),
    ("service-ports-edge-only", SERVICE, _not_edge, _break_ports),
    ("service-no-secret-env", SERVICE, _not_edge, _break_env),
    ("image-pinned", SERVICE, lambda p: _labels(p).get(rules.KIND_LABEL) != "connector", _break_image),
    ("network-encrypted-overlay", NETWORK, lambda p: True, _break_network),
    ("content-named-objects", SERVICE_CONFIG, lambda p: True, _break_content),
    ("content-named-objects", SECRET, lambda p: True, _break_content),
]


@pytest.mark.parametrize(
    ("policy", "type_", "pick", "breaker"), BREAKS, ids=[f"{b[0]}-{b[1].split(':')[-1]}" for b in BREAKS]
)
def test_each_policy_fails_on_a_real_resource_broken_once(
    policy: str,
    type_: str,
    pick: Callable[[dict[str, Any]], bool],
    breaker: Callable[[dict[str, Any]], None],
) -> None:
    """The zero above is not vacuous: the same checks, on a registered resource with one
    property broken, report exactly that policy."""
    props = _first(evaluate("staging"), type_, pick)
    assert rules.violations(type_, props, context("staging")) == []
    breaker(props)
    assert {name for name, _ in rules.violations(type_, props, context("staging"))} == {policy}


@pytest.mark.parametrize("stack", STACKS)
def test_zero_violations_without_stack_config_as_the_real_analyzer_runs(stack: str) -> None:
    """The CLI hands analyzers no stack config (no PULUMI_CONFIG; pulumi-policy 1.21 drops
    what ConfigureStack carries), so a stack's opt-ins must be readable from the resources."""
    run = evaluate(stack)
    found = [
        (r.type, r.name, *v)
        for r in run.resources
        for v in rules.violations(r.type, r.plain, rules.Context())
    ]
    assert found == []
