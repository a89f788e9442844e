"""Re-sharding safety: never change the shard endpoints without an explicit, exact ack.

HRW moves no data (platform.md §9): a graph whose shard changes comes up *empty* on the
new shard. So before the program registers any shard service it compares the endpoint
list it is about to deploy with the one the stack was last deployed with, and stops with a
`pulumi.RunError` listing every known tenant graph that would move, unless
`agent-os:shards.acknowledgeReshard` is exactly `{from: <last count>, to: <new count>}`.

What was last deployed: the stack's own outputs `shardCount` and `shardEndpoints`
(exported by the shards layer every run), read back through a `pulumi.StackReference` to
the stack itself (`agent-os:shards.stateRef`, default `<org>/<project>/<stack>`; on file
backends the org is literally `organization`).

Why this fails at *preview*: a StackReference is a read of existing state, so its outputs
are known during preview (the engine performs reads in preview). The guard does not
decide inside an `apply` that nothing awaits; it blocks on the reference's outputs
during program evaluation, the way the SDK's own synchronous invokes do (`_sync_await`
pumps the running event loop until the ReadResource RPC answered), then raises
`pulumi.RunError` from the ShardsLayer constructor. The program stops right there, before
any shard service or client exists in the new desired state, under `pulumi preview`,
under `pulumi up` (whose preview phase fails) and under mocks with preview=True.

The pure part (`decide`) has no Pulumi dependency and is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components.config.shards import ShardsConfig
from shards.endpoints import endpoints as endpoint_list
from shards.reshard import ReshardPlan, load_tenants, migration_steps, plan_reshard

#: Stack outputs that record what was deployed (read back by the next run).
OUTPUT_COUNT = "shardCount"
OUTPUT_ENDPOINTS = "shardEndpoints"
OUTPUT_MODE = "shardMode"
OUTPUT_PLAN = "reshardPlan"
OUTPUT_CAPACITY = "capacityPlan"

PROJECT_DIR = Path(__file__).resolve().parents[1]
#: The pseudo-tenant for the untenanted base graph (routing key = base graph name).
BASE_TENANT = ""


class ReshardBlockedError(ValueError):
    """The endpoint list changes and the change is not acknowledged exactly."""


@dataclass(frozen=True)
class Deployed:
    """What the stack was last deployed with; both None on a first deploy."""

    count: int | None = None
    endpoints: tuple[str, ...] | None = None

    @staticmethod
    def from_outputs(outputs: Mapping[str, Any]) -> Deployed:
        """Parse the referenced stack's outputs. Raises ReshardBlockedError on malformed values."""
        raw_count = outputs.get(OUTPUT_COUNT)
        raw_eps = outputs.get(OUTPUT_ENDPOINTS)
        count: int | None = None
        eps: tuple[str, ...] | None = None
        if raw_count is not None:
            # Stack outputs round-trip numbers as floats on some backends.
            if (
                isinstance(raw_count, bool)
                or not isinstance(raw_count, int | float)
                or raw_count != int(raw_count)
            ):
                raise ReshardBlockedError(f"stack output {OUTPUT_COUNT} is not a shard count: {raw_count!r}")
            count = int(raw_count)
        if raw_eps is not None:
            if not isinstance(raw_eps, list | tuple) or not all(isinstance(e, str) and e for e in raw_eps):
                raise ReshardBlockedError(
                    f"stack output {OUTPUT_ENDPOINTS} is not an endpoint list: {raw_eps!r}"
                )
            eps = tuple(str(e) for e in raw_eps)
            if count is None:
                count = len(eps)
            elif count != len(eps):
                raise ReshardBlockedError(
                    f"stack outputs disagree: {OUTPUT_COUNT}={count} but {OUTPUT_ENDPOINTS} has {len(eps)}"
                )
        return Deployed(count=count, endpoints=eps)


@dataclass(frozen=True)
class Decision:
    """Outcome of the guard: proceed, with the plan to export (empty when nothing changes)."""

    previous: Deployed
    changed: bool
    plan: ReshardPlan | None = None
    steps: list[str] = field(default_factory=list[str])
    warnings: list[str] = field(default_factory=list[str])


def tenant_label(tenant: str) -> str:
    return "(no tenant: base graph)" if tenant == BASE_TENANT else repr(tenant)


def _ack_commands(frm: int, to: int) -> str:
    return (
        f"  pulumi config set --path 'agent-os:shards.acknowledgeReshard.from' {frm}\n"
        f"  pulumi config set --path 'agent-os:shards.acknowledgeReshard.to' {to}"
    )


def _moves_text(plan: ReshardPlan) -> str:
    if not plan.moved:
        return f"  (none of the {plan.total} known graph(s) moves; unknown tenants may still move)"
    width = max(len(tenant_label(m.tenant)) for m in plan.moved)
    return "\n".join(
        f"  tenant {tenant_label(m.tenant):<{width}}  graph {m.graph}: {m.from_endpoint} -> {m.to_endpoint}"
        for m in plan.moved
    )


def decide(
    previous: Deployed,
    new_endpoints: Sequence[str],
    tenants: Iterable[str],
    ack: tuple[int, int] | None,
    base: str,
    base_port: int,
    host_template: str,
) -> Decision:
    """Compare `previous` with `new_endpoints`; raise ReshardBlockedError unless it is safe.

    Safe: first deploy (no previous output), identical endpoint list, or a change whose
    (from, to) counts equal `ack` exactly. The untenanted base graph is always checked.
    """
    new = tuple(new_endpoints)
    if previous.count is None:
        warnings = []
        if ack is not None:
            warnings.append(
                f"agent-os:shards.acknowledgeReshard {{from: {ack[0]}, to: {ack[1]}}} has no effect on a "
                "first deploy; remove it"
            )
        return Decision(previous=previous, changed=False, warnings=warnings)
    old = previous.endpoints or tuple(endpoint_list(previous.count, base_port, host_template))
    if old == new:
        warnings = []
        if ack is not None:
            warnings.append(
                f"agent-os:shards.acknowledgeReshard {{from: {ack[0]}, to: {ack[1]}}} is left over: the "
                f"endpoints did not change ({len(new)} shard(s)); remove it so it cannot approve a "
                "future change by accident"
            )
        return Decision(previous=previous, changed=False, warnings=warnings)

    frm, to = len(old), len(new)
    plan = plan_reshard(old, new, [BASE_TENANT, *tenants], base=base)
    what = (
        f"from {frm} to {to} shard(s)"
        if frm != to
        else f"at {to} shard(s) with different endpoint strings (renamed host or port)"
    )
    head = (
        f"re-sharding agent-os:shards {what} moves {len(plan.moved)} of {plan.total} known graph(s) "
        f"({plan.moved_fraction:.2%}). HRW moves no data: these graphs would come up EMPTY on "
        f"their new shard:\n{_moves_text(plan)}\n"
        f"  old endpoints: {', '.join(old)}\n"
        f"  new endpoints: {', '.join(new)}"
    )
    how = (
        "Before this change: quiesce writers and export each moved graph from its old shard. Then "
        "acknowledge exactly this change and run `pulumi up` (it switches the endpoints; the stack "
        "output reshardPlan lists every step), import the graphs on their new shards and delete the "
        f"stale copies (`python -m shards reshard --from {frm} --to {to} --tenants-file F` lists "
        "them too). Acknowledge with:\n" + _ack_commands(frm, to)
    )
    if ack is None:
        raise ReshardBlockedError(f"{head}\n{how}")
    if ack != (frm, to):
        raise ReshardBlockedError(
            f"agent-os:shards.acknowledgeReshard is {{from: {ack[0]}, to: {ack[1]}}}, but this change is "
            f"{{from: {frm}, to: {to}}}; a stale or different acknowledgement approves nothing.\n{head}\n{how}"
        )
    return Decision(previous=previous, changed=True, plan=plan, steps=migration_steps(plan))


def known_tenants(
    tenants: Sequence[str], tenants_file: str | None, project_dir: Path = PROJECT_DIR
) -> list[str]:
    """Config tenants, then the file's (relative to the project dir), de-duplicated in order.
    Raises TenantsFileError (a ValueError) when the file cannot be read."""
    out = list(tenants)
    if tenants_file:
        path = Path(tenants_file)
        out += load_tenants(path if path.is_absolute() else project_dir / path)
    return list(dict.fromkeys(t.strip() for t in out if t.strip()))


def plan_output(decision: Decision) -> dict[str, Any]:
    """The `reshardPlan` stack output."""
    if not decision.changed or decision.plan is None:
        return {"changed": False, "steps": []}
    p = decision.plan
    return {
        "changed": True,
        "from": list(p.old_endpoints),
        "to": list(p.new_endpoints),
        "moved": [
            {"tenant": m.tenant, "graph": m.graph, "from": m.from_endpoint, "to": m.to_endpoint}
            for m in p.moved
        ],
        "movedFraction": p.moved_fraction,
        "steps": decision.steps,
    }


# --- Pulumi side: read what was deployed, decide during program evaluation ------------


def default_state_ref() -> str:
    """This stack: `<org>/<project>/<stack>` (`organization/...` on file backends)."""
    org = pulumi.get_organization() or "organization"
    return f"{org}/{pulumi.get_project()}/{pulumi.get_stack()}"


async def _outputs_if_known(ref: pulumi.StackReference) -> dict[str, Any] | None:
    if not await ref.outputs.is_known():
        return None
    return dict(await ref.outputs.future() or {})


def read_deployed(state_ref: str, parent: pulumi.Resource) -> Deployed:
    """Read `shardCount`/`shardEndpoints` of `state_ref` now, during program evaluation.

    Blocks on the StackReference read (known at preview: it reads existing state) the way
    the SDK's synchronous invokes do. Unknown outputs fail closed: the guard never passes
    because it could not look.
    """
    ref = pulumi.StackReference(
        "shards-last-deployed", stack_name=state_ref, opts=pulumi.ResourceOptions(parent=parent)
    )
    outputs = _sync_await(_outputs_if_known(ref))
    if outputs is None:
        raise pulumi.RunError(
            f"agent-os:shards: cannot check re-sharding, the outputs of stack {state_ref!r} are unknown "
            "in this run (set agent-os:shards.stateRef to the stack that holds shardCount)"
        )
    return Deployed.from_outputs(outputs)


def check(shards: ShardsConfig, new_endpoints: Sequence[str], parent: pulumi.Resource) -> Decision:
    """The guard as the shards layer runs it: raises pulumi.RunError when not safe."""
    try:
        tenants = known_tenants(shards.tenants, shards.tenants_file)
    except ValueError as e:
        raise pulumi.RunError(f"agent-os:shards.tenantsFile: {e}") from None
    ack = shards.acknowledge_reshard
    try:
        decision = decide(
            read_deployed(shards.state_ref or default_state_ref(), parent),
            new_endpoints,
            tenants,
            (ack.from_count, ack.to_count) if ack else None,
            base=shards.base_graph,
            base_port=shards.base_port,
            host_template=shards.host_template,
        )
    except ReshardBlockedError as e:
        raise pulumi.RunError(str(e)) from None
    for warning in decision.warnings:
        pulumi.log.warn(warning, resource=parent)
    return decision
