"""Adapter from the pure rules (policy/rules.py) to pulumi_policy. `__main__.py` serves it;
the tests call it with real `ResourceValidationArgs` built the way the analyzer builds them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi_policy import Policy as PulumiPolicy
from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .rules import POLICIES, Context, Policy

PACK_NAME = "agent-os-hardened"


def plain(v: Any) -> Any:
    """Strip pulumi_policy's unknown-checking proxies. Unknowns stay as sentinels, which the
    rules skip; reading them through the proxy would abort the whole policy at preview."""
    if type(v).__name__ in ("_DictProxy", "_ListProxy"):
        v = v["__target"]
    if isinstance(v, Mapping):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return v


def stack_context() -> Context:
    """From the stack config the engine passes to the analyzer (PULUMI_CONFIG)."""
    images = pulumi.Config("agent-os").get_object("images") or {}
    return Context.from_stack_config({"agent-os:images": images})


def to_pulumi(policy: Policy, context: Callable[[], Context] = stack_context) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in policy.resource_types:
            return
        for message in policy.validate(args.resource_type, plain(args.props), context()):
            report_violation(message, None)

    return ResourceValidationPolicy(name=policy.name, description=policy.description, validate=validate)


def policies(context: Callable[[], Context] = stack_context) -> list[PulumiPolicy]:
    return [to_pulumi(p, context) for p in POLICIES]
