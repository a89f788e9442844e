"""The real Pulumi CLI and engine, on a throwaway file backend, for the `engine` tests.

`tools/pulumi-toolchain.sh` builds (or reuses) the CLI and the language host from Go
modules. The project is copied (tracked files only) into a temporary folder with the
shared data beside it, so the CLI's writes (stack files, salts) never touch the checkout.
No network beyond loopback: plugin acquisition and update checks are off.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import mockrun

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
TOOLCHAIN = REPO / "tools" / "pulumi-toolchain.sh"
POLICY_ANALYZER = "policy/analyzer"


def ci_overrides(stack: str) -> dict[str, Any]:
    """The whole config keys the CI preview changes (same as `init_stack`), for mockrun."""
    if stack != "enterprise":
        return {}
    values, _ = mockrun.stack_config(stack)
    return {
        "agent-os:swarm": {**values["agent-os:swarm"], "dockerHost": "unix:///var/run/docker.sock"},
        "agent-os:inventory": {**values["agent-os:inventory"], "provision": False},
    }


class ToolchainError(RuntimeError):
    pass


def build_toolchain() -> Path:
    started = time.monotonic()
    done = subprocess.run([str(TOOLCHAIN)], capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise ToolchainError(f"tools/pulumi-toolchain.sh failed ({done.returncode}):\n{done.stderr[-4000:]}")
    print(f"toolchain ready in {time.monotonic() - started:.1f} s")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


def copy_project(project: Path, keep: tuple[str, ...] = ()) -> None:
    """Copy the checkout's tracked and new files into `project` (a later call refreshes the
    program in place; `keep` names files the copy owns, e.g. a stack file it configured)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if not src.is_file() or name.decode() in keep:
            continue
        dst = project / name.decode()
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


@dataclass
class Workspace:
    root: Path
    bin: Path
    env: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def project(self) -> Path:
        return self.root / "main"

    @classmethod
    def create(cls, root: Path, bin_dir: Path) -> Workspace:
        copy_project(root / "main")
        (root / "main" / ".venv").symlink_to(REPO / ".venv")
        (root / "shared").symlink_to(SHARED)
        state = root / "state"
        state.mkdir()
        # Kept beside the state (a throwaway folder), so a later session can attach to it.
        (root / "passphrase").write_text(secrets.token_hex(16))
        return cls.attach(root, bin_dir)

    @classmethod
    def attach(cls, root: Path, bin_dir: Path) -> Workspace:
        """The workspace `create` made at `root` (its project, state and passphrase)."""
        state = root / "state"
        venv_bin = REPO / ".venv" / "bin"
        env = {
            **os.environ,
            "PATH": f"{venv_bin}:{bin_dir}:{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(REPO / ".venv"),
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": (root / "passphrase").read_text(),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        }
        return cls(root=root, bin=bin_dir, env=env)

    def pulumi(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 900
    ) -> Result:
        argv = [str(self.bin / "pulumi"), *args, "--non-interactive"]
        started = time.monotonic()
        done = subprocess.run(
            argv,
            cwd=self.project,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        res = Result(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)
        if check and done.returncode != 0:
            raise AssertionError(
                f"`pulumi {' '.join(args)}` exited {done.returncode}\n"
                f"stdout:\n{done.stdout[-6000:]}\nstderr:\n{done.stderr[-3000:]}"
            )
        return res

    def init_stack(self, stack: str) -> None:
        self.pulumi("stack", "init", stack)
        if stack == "enterprise":
            # As the CI preview workflow does: never dial the example hosts; a throwaway key
            # replaces the stack file's placeholder (which no passphrase decrypts).
            self.pulumi("config", "set", "--path", "agent-os:swarm.dockerHost", "unix:///var/run/docker.sock")
            self.pulumi("config", "set", "--path", "agent-os:inventory.provision", "false")
            key = subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.root / "ci-key")],
                capture_output=True,
                check=False,
            )
            assert key.returncode == 0, key.stderr
            self.pulumi(
                "config",
                "set",
                "--secret",
                "agent-os:sshPrivateKey",
                stdin=(self.root / "ci-key").read_text(),
            )
            # The stack file's Langfuse placeholders: throwaway values for a preview that
            # never reaches Langfuse (the CLI cannot decrypt a placeholder).
            for key in ("langfusePublicKey", "langfuseSecretKey"):
                self.pulumi(
                    "config", "set", "--secret", f"agent-os:{key}", f"ci-preview-{secrets.token_hex(8)}"
                )


def mini_project(root: Path, bin_dir: Path, program: str, name: str = "mini") -> Workspace:
    """A throwaway Pulumi project whose `__main__.py` is `program` (for provider tests: a few
    resources of one package, through the real CLI, engine and the launchers on `bin_dir`).
    The stack `test` is created; set config with `ws.pulumi("config", "set", ...)`."""
    project = root / "main"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: .venv\n"
    )
    (project / "__main__.py").write_text(program)
    (project / ".venv").symlink_to(REPO / ".venv")
    state = root / "state"
    state.mkdir()
    venv_bin = REPO / ".venv" / "bin"
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{bin_dir}:{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(REPO / ".venv"),
        "PYTHONPATH": str(REPO),
        "PULUMI_HOME": str(root / "home"),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": secrets.token_hex(16),
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
    }
    ws = Workspace(root=root, bin=bin_dir, env=env)
    ws.pulumi("stack", "init", "test")
    return ws


def changes(res: Result) -> dict[str, list[str]]:
    """The engine's step summary of a `pulumi up/preview --json` or `--skip-preview --json`
    run: op -> sorted resource names (create, update, replace, delete, same; a replacement
    run also shows its create-replacement / delete-replaced steps). `preview --json` prints
    one document with `steps`; `up --json` prints an event stream (one JSON object a line),
    whose `resourcePreEvent`s are the steps."""
    try:
        steps = res.json().get("steps", [])
    except json.JSONDecodeError:
        events = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
        steps = [e["resourcePreEvent"]["metadata"] for e in events if "resourcePreEvent" in e]
    out: dict[str, list[str]] = {}
    for step in steps:
        urn = step.get("urn", "")
        out.setdefault(step.get("op", "?"), []).append(urn.rsplit("::", 1)[-1])
    return {k: sorted(v) for k, v in out.items()}
