"""`with-secrets` (components/swarm/entrypoint.py): the script run by real shells, and the
ServiceSpec pieces it hands to services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from components.swarm.entrypoint import ENV_VAR, SCRIPT, SCRIPT_PATH, SHELL, Entrypoint, SecretEnv

# Every POSIX shell on this machine the images may have as /bin/sh.
SHELLS = [s for s in (["sh"], ["busybox", "sh"], ["bash", "--posix"]) if shutil.which(s[0])]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    p = tmp_path / "with-secrets"
    p.write_text(SCRIPT)
    return p


def run(
    shell: list[str], script: Path, specs: str | None, *cmd: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **(extra_env or {})}
    if specs is not None:
        env[ENV_VAR] = specs
    return subprocess.run(
        [*shell, str(script), *cmd], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize("shell", SHELLS, ids=[s[0] for s in SHELLS])
def test_exports_each_listed_file_exactly(shell: list[str], script: Path, tmp_path: Path) -> None:
    tricky = "p@ss w0rd $HOME `id` 'q' \"dq\" \\n;|&*"
    (tmp_path / "a").write_text(tricky + "\n")  # trailing newline is not part of the value
    (tmp_path / "b").write_text("second")
    out = run(
        shell,
        script,
        f"GRAPH_SERVICE_AUTH_SECRET={tmp_path / 'a'},OTHER_TOKEN={tmp_path / 'b'}",
        "sh",
        "-c",
        'printf "%s|%s|%s" "$GRAPH_SERVICE_AUTH_SECRET" "$OTHER_TOKEN" "${SECRETS_TO_ENV-unset}"',
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"{tricky}|second|unset"
    assert tricky not in out.stderr


@pytest.mark.parametrize("shell", SHELLS, ids=[s[0] for s in SHELLS])
def test_execs_the_command_in_place(shell: list[str], script: Path, tmp_path: Path) -> None:
    (tmp_path / "s").write_text("v")
    # exec: the program replaces the wrapper, so it has the wrapper's PID and exit status.
    proc = subprocess.Popen(
        [*shell, str(script), "sh", "-c", 'echo "$$"; exit 7'],
        env={"PATH": os.environ["PATH"], ENV_VAR: f"X={tmp_path / 's'}"},
        stdout=subprocess.PIPE,
        text=True,
    )
    stdout, _ = proc.communicate(timeout=30)
    assert int(stdout.strip()) == proc.pid
    assert proc.returncode == 7


@pytest.mark.parametrize("shell", SHELLS, ids=[s[0] for s in SHELLS])
@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "is missing"), ("", "is empty"), ("\n\n", "is empty")],
    ids=["missing", "empty", "only-newlines"],
)
def test_missing_or_empty_file_stops_before_the_command(
    shell: list[str], script: Path, tmp_path: Path, content: str | None, reason: str
) -> None:
    secret = tmp_path / "graph_service_auth_secret"
    if content is not None:
        secret.write_text(content)
    (tmp_path / "ok").write_text("fine")
    marker = tmp_path / "ran"
    out = run(
        shell,
        script,
        f"OK_ONE={tmp_path / 'ok'},GRAPH_SERVICE_AUTH_SECRET={secret}",
        "touch",
        str(marker),
    )
    assert out.returncode != 0
    assert not marker.exists(), "the command ran without its secret"
    assert f"GRAPH_SERVICE_AUTH_SECRET: secret file {secret} {reason}" in out.stderr
    assert "fine" not in out.stderr + out.stdout


@pytest.mark.parametrize(
    ("specs", "args", "message"),
    [
        (None, ("true",), "SECRETS_TO_ENV is unset or empty"),
        ("", ("true",), "SECRETS_TO_ENV is unset or empty"),
        ("9X=/x", ("true",), "bad variable name '9X'"),
        ("A B=/x", ("true",), "bad variable name 'A B'"),
        ("NOFILE", ("true",), "NOFILE: no secret file given"),
        ("X=/dev/null", (), "no command given"),
    ],
)
def test_bad_use_fails_loudly(script: Path, specs: str | None, args: tuple[str, ...], message: str) -> None:
    out = run(["sh"], script, specs, *args)
    assert out.returncode != 0
    assert message in out.stderr


def test_wrap_mounts_the_script_and_each_secret_for_the_service_user() -> None:
    config = cast(Any, object())
    s1, s2 = cast(Any, object()), cast(Any, object())
    w = Entrypoint(config).wrap(
        [
            SecretEnv(env="A_SECRET", secret=s1, file_name="a"),
            SecretEnv(env="B", secret=s2, file_name="b.txt"),
        ],
        uid="10001",
        gid="10002",
    )
    assert w.command == (SHELL, SCRIPT_PATH)
    assert w.env == {ENV_VAR: "A_SECRET=/run/secrets/a,B=/run/secrets/b.txt"}
    assert [(f.secret, f.target, f.uid, f.gid, f.mode) for f in w.secrets] == [
        (s1, "/run/secrets/a", "10001", "10002", 0o400),
        (s2, "/run/secrets/b.txt", "10001", "10002", 0o400),
    ]
    assert [(c.config, c.target, c.mode) for c in w.configs] == [(config, SCRIPT_PATH, 0o555)]


def test_wrap_refuses_nothing_duplicates_and_bad_names() -> None:
    e = Entrypoint(cast(Any, object()))
    s = cast(Any, object())
    with pytest.raises(ValueError, match="at least one"):
        e.wrap([], uid="1", gid="1")
    with pytest.raises(ValueError, match="duplicate secret variable"):
        e.wrap(
            [SecretEnv(env="A", secret=s, file_name="a"), SecretEnv(env="A", secret=s, file_name="b")],
            uid="1",
            gid="1",
        )
    with pytest.raises(ValueError, match="duplicate secret file"):
        e.wrap(
            [SecretEnv(env="A", secret=s, file_name="a"), SecretEnv(env="B", secret=s, file_name="a")],
            uid="1",
            gid="1",
        )
    with pytest.raises(ValueError, match="not an environment variable name"):
        SecretEnv(env="1A", secret=s, file_name="a")
    with pytest.raises(ValueError, match="plain file name"):
        SecretEnv(env="A", secret=s, file_name="../etc/passwd")
