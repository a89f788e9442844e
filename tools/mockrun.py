"""Run the Pulumi program offline under mocks and capture every registration.

Used by the tests, the offline plan, the schema checker, the policy run and the
benchmarks. No Pulumi CLI or provider plugin is involved: resource inputs are captured
exactly as the program declares them (secrets still marked as secrets).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import runpy
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings as _settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.edge.caddy import ROOT_CA_SCRIPT

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT = "agent-os"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"
# Placeholder for `secure:` stack-file values, which only the Pulumi CLI can decrypt.
SECURE_PLACEHOLDER = "mock-secure-config-value"


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]  # raw wire form: secrets wrapped, unknowns as sentinel
    id: str = ""

    @property
    def plain(self) -> dict[str, Any]:
        """Inputs with secret wrappers removed (for assertions on secret-carrying fields)."""
        return unwrap(self.inputs)


@dataclass
class Run:
    stack: str
    preview: bool
    resources: list[Registered] = field(default_factory=list[Registered])
    outputs: dict[str, Any] = field(default_factory=dict[str, Any])
    logs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])

    def by_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Registered:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources {type_} named {name!r}")
        return found[0]

    def get(self, urn: str) -> Registered:
        return self._by_urn()[urn]

    def _by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.resources}

    def services(self) -> dict[str, Registered]:
        return {r.inputs["name"]: r for r in self.by_type("docker:index/service:Service")}


def is_secret(v: Any) -> bool:
    return isinstance(v, dict) and v.get(SIG_KEY) == SECRET_VALUE_SIG


def unwrap(v: Any) -> Any:
    if is_secret(v):
        return unwrap(v.get("value"))
    if isinstance(v, dict):
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


@functools.cache
def mint_root_ca() -> dict[str, str]:
    """Run the stack's root-CA step (components/edge/caddy.py) as `pulumi up` would: the
    mocks' stand-in for its output, so a real Caddy (tests/verify) gets a valid CA."""
    done = subprocess.run(
        ["/bin/sh", "-c", ROOT_CA_SCRIPT],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"caddy-root-ca step failed: {done.stderr}")
    return dict(json.loads(done.stdout))


def fake_password(name: str, length: int) -> str:
    return hashlib.sha256(f"mock:{name}".encode()).hexdigest()[: max(8, int(length))]


class PlatformMocks(pulumi.runtime.Mocks):
    """Echo inputs; add the few computed outputs the program reads.

    `stack_outputs`: the outputs every `pulumi.StackReference` sees (the previous
    deployment's outputs when a stack references itself); `{}` = never deployed.
    `stack_references` records each reference's stack name by resource name."""

    def __init__(self, stack_outputs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.stack_outputs = dict(stack_outputs or {})
        self.stack_references: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        if args.typ == "pulumi:pulumi:StackReference":
            self.stack_references[args.name] = str(state.get("name"))
            return str(state.get("name")), {**state, "outputs": dict(self.stack_outputs)}
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = fake_password(args.name, state.get("length", 32))
        elif args.typ.startswith("command:local:Command") or args.typ.startswith("command:remote:Command"):
            if args.name == "openbao-init":  # components/core/baoctl.py prints one JSON line
                state.setdefault(
                    "stdout",
                    json.dumps(
                        {"root_token": fake_password("openbao-root", 28), "recovery_keys_b64": ["cmVj"]}
                    ),
                )
            if args.name == "caddy-root-ca":  # a real CA from the step's own script (cached)
                state.setdefault("stdout", json.dumps(mint_root_ca()))
            state.setdefault("stdout", "ready")
            state.setdefault("stderr", "")
        elif args.typ == "docker:index/network:Network":
            state.setdefault("scope", "swarm")
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class CaptureMonitor(_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.captured: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        resp = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.captured.append(
                Registered(
                    urn=resp.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    inputs=json_format.MessageToDict(request.object),
                    id=resp.id,
                )
            )
        return resp


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], set[str]]:
    """Project defaults + Pulumi.<stack>.yaml, as `{full_key: value}` and the secret keys."""
    values: dict[str, Any] = {}
    secret: set[str] = set()
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "value" in decl:
            values[key] = decl["value"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise FileNotFoundError(f"no stack file {stack_file.name}")
    for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = SECURE_PLACEHOLDER
            secret.add(key)
        else:
            values[key] = value
    return values, secret


def _encode(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def run(
    stack: str,
    preview: bool = False,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    program: Path | Callable[[], None] | None = None,
    project_dir: Path = PROJECT_DIR,
    mocks: pulumi.runtime.Mocks | None = None,
    stack_outputs: Mapping[str, Any] | None = None,
) -> Run:
    """Evaluate the program for `stack`. `overrides` replace whole config keys (full
    `ns:key` names); `None` deletes a key. `secrets` are set as secret config values.
    `stack_outputs` are what StackReferences read (e.g. the previous `shardCount`).
    Raises what the program raises (e.g. pulumi.RunError for bad config)."""
    values, secret_keys = stack_config(stack, project_dir)
    for k, v in (overrides or {}).items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    for k, v in (secrets or {}).items():
        values[k] = v
        secret_keys.add(k)

    monitor = CaptureMonitor(mocks or PlatformMocks(stack_outputs))
    _settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        monitor=monitor,
        organization="organization",  # what file backends report
    )
    pulumi.runtime.set_all_config({k: _encode(v) for k, v in values.items()}, sorted(secret_keys))

    result = Run(stack=stack, preview=preview)
    target = program or (project_dir / "__main__.py")

    def body() -> Any:
        if callable(target):
            target()
        else:
            runpy.run_path(str(target), run_name="__main__")
        root = _settings.get_root_resource()
        outs = getattr(root, "outputs", {}) if root is not None else {}
        return pulumi.Output.from_input(outs).apply(lambda o: result.outputs.update(o))

    active: Any = _settings.SETTINGS
    active.rpc_manager.clear()
    active.outputs.clear()
    _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(body()).future())))
    result.resources = monitor.captured
    return result


def b64decode(s: str) -> str:
    return base64.b64decode(s).decode()


def stack_model(stack: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """Pulumi.<stack>.yaml (+ overrides, full `agent-os:key` names) parsed into the
    StackConfig model exactly as the program's loader does, without running the program."""
    from components.config import NAMESPACE, parse
    from components.config.secrets import SECRET_KEYS
    from components.plan import check, stack_plan

    values, secret = stack_config(stack)
    values.update(overrides or {})
    prefix = f"{NAMESPACE}:"
    raw = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix) and v is not None}
    raw = {k: (None if k in SECRET_KEYS else v) for k, v in raw.items()}
    cfg = parse(raw, stack, {k[len(prefix) :] for k in secret if k.startswith(prefix)})
    check(cfg, stack_plan(cfg))  # as __main__.py does, right after loading
    return cfg
