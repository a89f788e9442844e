"""`pulumi preview` of both stacks through the real CLI, engine and language host, on a
file backend with the passphrase secrets provider and the policy pack, as CI runs it.

The provider plugins cannot be built here; our providers (verify/providers/) stand in for
them and check every input against the package's published schema in the engine's Check
call (a preview deploys nothing). What runs for real: the CLI, config and secret
decryption, the language host, our program, the StackReference the re-shard guard reads,
the policy pack as an analyzer, and the engine's plan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import STACKS
from tests.engine.enginehelp import POLICY_ANALYZER, Workspace, build_toolchain, ci_overrides
from tools import mockrun

pytestmark = pytest.mark.engine

# What the engine registers that the mocks do not: the stack itself, and the guard's read
# of this stack's last outputs.
ENGINE_ONLY = {
    ("pulumi:pulumi:Stack", "agent-os-{stack}"),
    ("pulumi:pulumi:StackReference", "shards-last-deployed"),
}


def _type_name(urn: str) -> tuple[str, str]:
    return urn.split("::")[-2].split("$")[-1], urn.split("::")[-1]


@pytest.fixture(scope="module")
def toolchain() -> Path:
    return build_toolchain()


@pytest.fixture(scope="module")
def workspace(toolchain: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield Workspace.create(tmp_path_factory.mktemp("engine"), toolchain)


@pytest.mark.parametrize("stack", STACKS)
def test_real_preview_of_a_brand_new_stack_with_the_policy_pack(workspace: Workspace, stack: str) -> None:
    workspace.init_stack(stack)
    started = time.monotonic()
    res = workspace.pulumi("preview", "-s", stack, "--policy-pack", POLICY_ANALYZER, "--json", check=False)
    print(f"real preview of {stack}: {time.monotonic() - started:.1f} s")
    assert res.code == 0, f"preview failed:\n{res.stdout[-8000:]}\n{res.stderr[-3000:]}"
    doc = res.json()
    errors = [d for d in doc.get("diagnostics", []) if d.get("severity") == "error"]
    assert errors == []
    steps = doc["steps"]
    reads = [_type_name(s["urn"]) for s in steps if s["op"] == "read"]
    assert reads == [("pulumi:pulumi:StackReference", "shards-last-deployed")]
    assert {s["op"] for s in steps} == {"create", "read"}
    assert doc["changeSummary"] == {"create": len(steps) - 1}
    # The engine plans exactly what the mock harness captures: the fast tests stand on it.
    engine = {_type_name(s["urn"]) for s in steps}
    mock = mockrun.run(stack, preview=True, overrides=ci_overrides(stack))
    mocked = {_type_name(r.urn) for r in mock.resources}
    only_engine = {(t, n.format(stack=stack)) for t, n in ENGINE_ONLY}
    assert engine - mocked == only_engine
    assert mocked - engine == set()
