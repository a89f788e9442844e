"""The re-shard guard under the real engine: the stack's own previous outputs, read back from
the real file backend through the StackReference, refuse an unacknowledged change of the
shard count at `pulumi preview`, and the exact acknowledgement lets the same preview pass.

The previous outputs are put in place with `pulumi stack import` (a state whose Stack
resource carries `shardCount`/`shardEndpoints`, as a `pulumi up` of two shards leaves them):
no provider here can deploy, and the guard reads only those outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.engine.enginehelp import Workspace, build_toolchain

pytestmark = pytest.mark.engine

STACK = "staging"  # one shard in its stack file
PREVIOUS = {
    "shardCount": 2,
    "shardEndpoints": ["tcp://kg-shard-1:9101", "tcp://kg-shard-2:9102"],
    "shardMode": "sharded",
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = Workspace.create(tmp_path_factory.mktemp("engine-reshard"), build_toolchain())
    ws.init_stack(STACK)
    exported = ws.pulumi("stack", "export", "-s", STACK).json()
    stack_urn = f"urn:pulumi:{STACK}::agent-os::pulumi:pulumi:Stack::agent-os-{STACK}"
    exported["deployment"]["resources"] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": PREVIOUS}
    ]
    state = ws.root / "previous.json"
    state.write_text(json.dumps(exported))
    ws.pulumi("stack", "import", "-s", STACK, "--file", str(state))
    yield ws


def _preview(ws: Workspace) -> tuple[int, str]:
    res = ws.pulumi("preview", "-s", STACK, check=False)
    return res.code, res.stdout + res.stderr


def test_an_unacknowledged_reshard_fails_at_preview_from_the_stacks_own_outputs(workspace: Workspace) -> None:
    code, out = _preview(workspace)
    assert code != 0
    assert "re-sharding agent-os:shards from 2 to 1 shard(s)" in out
    assert "old endpoints: tcp://kg-shard-1:9101, tcp://kg-shard-2:9102" in out
    assert "pulumi config set --path 'agent-os:shards.acknowledgeReshard.from' 2" in out


def test_the_exact_acknowledgement_lets_the_same_preview_pass(workspace: Workspace) -> None:
    workspace.pulumi("config", "set", "--path", "agent-os:shards.acknowledgeReshard.from", "1", "-s", STACK)
    workspace.pulumi("config", "set", "--path", "agent-os:shards.acknowledgeReshard.to", "2", "-s", STACK)
    code, out = _preview(workspace)
    assert code != 0 and "a stale or different acknowledgement approves nothing" in out
    workspace.pulumi("config", "set", "--path", "agent-os:shards.acknowledgeReshard.from", "2", "-s", STACK)
    workspace.pulumi("config", "set", "--path", "agent-os:shards.acknowledgeReshard.to", "1", "-s", STACK)
    code, out = _preview(workspace)
    assert code == 0, out[-6000:]
