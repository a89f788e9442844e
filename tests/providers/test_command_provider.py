"""verify/providers/command.py through the real Pulumi CLI and engine: `command:local:Command`
runs for real with the shell, as pulumi-command 1.2.1 runs it (see the module's docstring
for the upstream evidence). Each test is a throwaway project (`mini_project`)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.engine.enginehelp import Workspace, build_toolchain, changes, mini_project

pytestmark = pytest.mark.engine

STACK = "mini-test"  # the stack resource of a mini project


@pytest.fixture(scope="module")
def toolchain() -> Path:
    return build_toolchain()


def outputs(ws: Workspace, *, secrets: bool = False) -> dict[str, Any]:
    args = ["stack", "output", "--json", *(["--show-secrets"] if secrets else [])]
    return ws.pulumi(*args).json()


def state_of(ws: Workspace, name: str) -> dict[str, Any] | None:
    """The stack state's record of the command `name` (`pulumi stack export`, secrets shown)."""
    deployment = ws.pulumi("stack", "export", "--show-secrets").json()["deployment"]
    for r in deployment.get("resources") or []:
        if r["type"] == "command:local:Command" and r["urn"].endswith(f"::{name}"):
            return r
    return None


def up(ws: Workspace) -> dict[str, list[str]]:
    return changes(ws.pulumi("up", "--yes", "--skip-preview", "--json"))


def planned(ws: Workspace) -> dict[str, list[str]]:
    return changes(ws.pulumi("preview", "--json"))


def configure(ws: Workspace, **values: str) -> None:
    for k, v in values.items():
        ws.pulumi("config", "set", k, v)


LIFECYCLE = textwrap.dedent(
    r"""
    import pulumi, pulumi_command as command
    cfg = pulumi.Config()
    c = command.local.Command(
        "c",
        create='echo "create $G prev=${PULUMI_COMMAND_STDOUT-none} pwd=$(pwd)" >> "$LOG"; printf "hello %s\\n" "$G"; echo warn >&2',
        update='echo "update $G prev=${PULUMI_COMMAND_STDOUT-none} err=${PULUMI_COMMAND_STDERR-none}" >> "$LOG"; echo "updated $G"',
        delete='echo "delete $G prev=${PULUMI_COMMAND_STDOUT-none}" >> "$LOG"',
        environment={"G": cfg.require("g"), "LOG": cfg.require("log")},
        triggers=[cfg.require("t")],
    )
    pulumi.export("stdout", c.stdout)
    pulumi.export("stderr", c.stderr)
    pulumi.export("id", c.id)
    """
)


def test_create_update_replace_delete_run_the_commands_with_the_previous_output(
    toolchain: Path, tmp_path: Path
) -> None:
    ws = mini_project(tmp_path, toolchain, LIFECYCLE)
    log = tmp_path / "log"
    configure(ws, g="hi", log=str(log), t="1")

    def lines() -> list[str]:
        return log.read_text().splitlines()

    # Create runs `create` in the project folder; stdout without its trailing newline.
    assert up(ws) == {"create": ["c", STACK]}
    assert lines() == [f"create hi prev=none pwd={ws.project}"]
    out = outputs(ws)
    assert (out["stdout"], out["stderr"]) == ("hello hi", "warn")
    first_id = out["id"]

    # Unchanged inputs: no change, nothing runs.
    res = ws.pulumi("preview", "--expect-no-changes", "--json")
    assert set(changes(res)) == {"same"}
    assert up(ws) == {"same": ["c", STACK]}
    assert lines() == [f"create hi prev=none pwd={ws.project}"]

    # An environment change updates: `update` runs with the previous stdout and stderr.
    configure(ws, g="bye")
    assert planned(ws) == {"update": ["c"], "same": [STACK]}
    assert up(ws) == {"update": ["c"], "same": [STACK]}
    assert lines()[1:] == ["update bye prev=hello hi err=warn"]
    out = outputs(ws)
    assert (out["stdout"], out["stderr"], out["id"]) == ("updated bye", "", first_id)

    # A trigger change replaces: the new one is created before the old one's `delete`
    # runs (with the old one's last stdout).
    configure(ws, t="2")
    assert planned(ws) == {"replace": ["c"], "same": [STACK]}
    assert up(ws) == {
        "create-replacement": ["c"],
        "replace": ["c"],
        "delete-replaced": ["c"],
        "same": [STACK],
    }
    assert lines()[2:] == [f"create bye prev=none pwd={ws.project}", "delete bye prev=updated bye"]
    out = outputs(ws)
    assert out["stdout"] == "hello bye"
    assert out["id"] != first_id

    # Destroy runs `delete` with the last stdout.
    assert changes(ws.pulumi("destroy", "--yes", "--skip-preview", "--json")) == {"delete": ["c", STACK]}
    assert lines()[4:] == ["delete bye prev=hello bye"]


OPTIONS = textwrap.dedent(
    r"""
    import os
    import pulumi, pulumi_command as command
    cfg = pulumi.Config()
    n = cfg.require("n")
    os.makedirs("sub", exist_ok=True)
    o = command.local.Command(
        "o",
        interpreter=["/bin/bash", "-c"],
        dir="sub",
        stdin="line one\nline two\n",
        add_previous_output_in_env=False,
        create='read -r a; read -r b; printf "%s|%s|%s|%s|%s|%s\\n\\n" "$0" "$a" "$b" "$(pwd)" "${PULUMI_COMMAND_STDOUT-unset}" "$N"',
        environment={"N": n},
    )
    p = command.local.Command("p", create='echo "$0 n=$N prev=${PULUMI_COMMAND_STDOUT-unset}"', environment={"N": n})
    e = command.local.Command("e", environment={"N": n})
    pulumi.export("o", o.stdout)
    pulumi.export("p", p.stdout)
    pulumi.export("e", [e.stdout, e.stderr])
    """
)


def test_interpreter_dir_stdin_and_update_falling_back_to_create(toolchain: Path, tmp_path: Path) -> None:
    ws = mini_project(tmp_path, toolchain, OPTIONS)
    configure(ws, n="1")
    assert up(ws) == {"create": sorted(["e", "o", "p", STACK])}
    sub = ws.project / "sub"
    out = outputs(ws)
    # bash from `dir` with stdin; only one trailing newline is trimmed.
    assert out["o"] == f"/bin/bash|line one|line two|{sub}|unset|1\n"
    # The default interpreter is /bin/sh -c; no `create`: nothing runs, empty outputs.
    assert out["p"] == "/bin/sh n=1 prev=unset"
    assert out["e"] == ["", ""]

    # No `update`: an update runs `create` again, with the previous stdout unless
    # addPreviousOutputInEnv is false.
    configure(ws, n="2")
    assert planned(ws) == {"update": ["e", "o", "p"], "same": [STACK]}
    assert up(ws) == {"update": ["e", "o", "p"], "same": [STACK]}
    out = outputs(ws)
    assert out["o"] == f"/bin/bash|line one|line two|{sub}|unset|2\n"
    assert out["p"] == "/bin/sh n=2 prev=/bin/sh n=1 prev=unset"
    assert out["e"] == ["", ""]


FAILING = textwrap.dedent(
    r"""
    import pulumi, pulumi_command as command
    cfg = pulumi.Config()
    f = command.local.Command(
        "f",
        create='echo out-line; echo "boom $MODE" >&2; [ "$MODE" = ok ] || exit 3; echo created',
        environment={"MODE": cfg.require("mode")},
    )
    pulumi.export("stdout", f.stdout)
    """
)


def test_a_failing_command_fails_the_step_with_its_output_and_keeps_the_state_consistent(
    toolchain: Path, tmp_path: Path
) -> None:
    ws = mini_project(tmp_path, toolchain, FAILING)
    configure(ws, mode="bad")

    # A failed create: the up fails with the exit status, the command and its output;
    # nothing is recorded, so the next preview still plans the create.
    res = ws.pulumi("up", "--yes", "--skip-preview", check=False)
    text = res.stdout + res.stderr
    assert res.code != 0
    assert 'exit status 3: running "echo out-line; echo \\"boom $MODE\\" >&2;' in text
    assert "boom bad" in text and "out-line" in text
    assert state_of(ws, "f") is None
    assert planned(ws) == {"create": ["f"], "same": [STACK]}

    configure(ws, mode="ok")
    assert up(ws) == {"create": ["f"], "same": [STACK]}
    assert outputs(ws)["stdout"] == "out-line\ncreated"

    # A failed update (no `update`: `create` runs again): the old state stays.
    configure(ws, mode="worse")
    res = ws.pulumi("up", "--yes", "--skip-preview", check=False)
    assert res.code != 0
    assert "boom worse" in res.stdout + res.stderr
    kept = state_of(ws, "f")
    assert kept is not None
    assert kept["inputs"]["environment"] == {"MODE": "ok"}
    assert kept["outputs"]["stdout"] == "out-line\ncreated"
    assert planned(ws) == {"update": ["f"], "same": [STACK]}


PREVIEW = textwrap.dedent(
    r"""
    import pulumi, pulumi_command as command
    cfg = pulumi.Config()
    c = command.local.Command(
        "c",
        create='touch "$MARK.create"; echo made',
        update='touch "$MARK.update"; echo updated',
        environment={"MARK": cfg.require("mark"), "N": cfg.require("n")},
    )
    pulumi.export("stdout", c.stdout)
    """
)


def test_preview_runs_nothing_and_shows_stdout_unknown(toolchain: Path, tmp_path: Path) -> None:
    ws = mini_project(tmp_path, toolchain, PREVIEW)
    mark = tmp_path / "mark"
    configure(ws, mark=str(mark), n="1")

    res = ws.pulumi("preview", "--json")
    assert changes(res) == {"create": ["c", STACK]}
    assert not Path(f"{mark}.create").exists()
    step = next(s for s in res.json()["steps"] if s["urn"].endswith("::c"))
    assert "stdout" not in step["newState"].get("outputs", {})  # unknown until it runs

    assert up(ws) == {"create": ["c", STACK]}
    assert Path(f"{mark}.create").exists()
    assert outputs(ws)["stdout"] == "made"

    configure(ws, n="2")
    res = ws.pulumi("preview", "--json")
    assert changes(res) == {"update": ["c"], "same": [STACK]}
    assert not Path(f"{mark}.update").exists()
    assert up(ws) == {"update": ["c"], "same": [STACK]}
    assert Path(f"{mark}.update").exists()


SECRETS = textwrap.dedent(
    r"""
    import pulumi, pulumi_command as command
    pw = pulumi.Output.secret("s3cr3t-in-env")
    token = pulumi.Output.secret("s3cr3t-on-stdin")
    plain = command.local.Command("plain", create='echo "public $PW_LEN"', environment={"PW_LEN": "13"})
    hidden = command.local.Command(
        "hidden",
        create='read -r t; echo "made from $t and $PW"',
        environment={"PW": pw},
        stdin=token,
        logging=command.local.Logging.NONE,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["stdout"]),
    )
    pulumi.export("plain", plain.stdout)
    pulumi.export("hidden", hidden.stdout)
    """
)


def test_secret_inputs_and_additional_secret_outputs_stay_encrypted_in_the_state(
    toolchain: Path, tmp_path: Path
) -> None:
    ws = mini_project(tmp_path, toolchain, SECRETS)
    assert up(ws) == {"create": sorted(["hidden", "plain", STACK])}
    assert outputs(ws)["plain"] == "public 13"
    assert outputs(ws)["hidden"] == "[secret]"
    assert outputs(ws, secrets=True)["hidden"] == "made from s3cr3t-on-stdin and s3cr3t-in-env"
    exported = ws.pulumi("stack", "export").stdout
    assert "public 13" in exported
    assert "s3cr3t" not in exported  # environment, stdin and stdout all encrypted


def test_asset_and_archive_paths_are_refused(toolchain: Path, tmp_path: Path) -> None:
    program = textwrap.dedent(
        """
        import pulumi_command as command
        command.local.Command("a", create="echo hi > out.txt", asset_paths=["*.txt"])
        """
    )
    ws = mini_project(tmp_path, toolchain, program)
    res = ws.pulumi("preview", check=False)
    assert res.code != 0
    assert "assetPaths not supported" in res.stdout + res.stderr, res.stdout[-3000:]
