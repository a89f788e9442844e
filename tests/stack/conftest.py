"""One staging deployment per test session (tests/stack/stackhelp.py): deployed from empty
by the real engine at first use, destroyed at the end of the session, where the teardown
asserts that nothing of the stack is left on the engine.

For working on a journey: `AGENT_OS_STACK_ROOT=<folder>` attaches to a deployment that
folder holds (made by `python -m tests.stack.stackhelp deploy <folder>`), and leaves it up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.enginehelp import Workspace, build_toolchain
from tests.stack import stackhelp
from verify import engine

ATTACH = "AGENT_OS_STACK_ROOT"


@pytest.fixture(scope="session", autouse=True)
def _figures_to_the_terminal(request: pytest.FixtureRequest) -> None:
    """stackhelp.report writes past the output capture (as `capsys.disabled()` does)."""
    plugins = request.config.pluginmanager
    reporter, capman = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capman is None:
        return

    def write(line: str) -> None:
        with capman.global_and_fixture_disabled():
            reporter.write_line(line)

    stackhelp.set_terminal_writer(write)


@pytest.fixture(scope="session")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stackhelp.Deployment]:
    try:
        engine.start_engine()
    except engine.EngineUnavailableError as e:
        pytest.skip(str(e))
    if os.environ.get(ATTACH):
        with stackhelp.resolving():
            yield stackhelp.Deployment(ws=Workspace.attach(Path(os.environ[ATTACH]), build_toolchain()))
        return
    with stackhelp.resolving():
        dep = stackhelp.prepare(tmp_path_factory.mktemp("staging"))
        try:
            dep.up("up from empty")  # a failure here still destroys what was made
            yield dep
        finally:
            res = stackhelp.destroy(dep)
            stackhelp.report(f"[times] { {k: round(v, 1) for k, v in dep.times.items()} }")
            left = stackhelp.leftovers()
            assert res.code == 0, "\n".join(stackhelp.errors(res))
            assert not left, f"left on the engine after `pulumi destroy`: {left}"
