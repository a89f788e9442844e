"""Schema conformance: every captured resource input against its provider's published schema.

Pulumi mocks run no provider `Check`, so a misspelt property, a wrong type or a missing
required input passes every mock test. This module checks the captured inputs (wire form
from `tools/mockrun`) against the provider package schemas (`pulumi package get-schema
<provider>` produces the same JSON). Checked: property names, types, enums, required
properties, recursively through `$ref` types, arrays and maps. Provider resources
(`pulumi:providers:<pkg>`) are checked against the schema's `config.variables`.

Generic: any resource whose package has a non-empty schema file is checked, so resources
other layers add later (keycloak, postgresql, command, random, ...) are covered without
changes here. A package whose schema file is empty (vault) is skipped: its typed Args are
checked statically by pyright over the whole program.

Wire format handled: secret wrappers (checked as their inner value), the unknown
sentinel (accepted for any type), resource references, assets/archives, numbers as
floats (an `integer` must be integral), provider inputs serialised as strings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tools import mockrun

REPO = Path(__file__).resolve().parents[1]
ENV_VAR = "AGENT_OS_SCHEMA_DIR"
SIG = mockrun.SIG_KEY
ASSET_SIGS = {"c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7"}  # asset, archive


def schema_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or (REPO.parent / "shared" / "provider-schemas"))


@dataclass(frozen=True)
class Violation:
    urn: str
    path: str  # dotted path into the inputs, e.g. taskSpec.containerSpec.mounts[0].target
    message: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.path or '<inputs>'}: {self.message}"


@dataclass
class Report:
    checked: list[str] = field(default_factory=list[str])  # URNs checked
    skipped: dict[str, str] = field(default_factory=dict[str, str])  # URN -> reason
    violations: list[Violation] = field(default_factory=list[Violation])


class Schema:
    """One provider package schema."""

    def __init__(self, package: str, doc: dict[str, Any]) -> None:
        self.package = package
        self.doc = doc
        self.types: dict[str, Any] = doc.get("types", {})
        self.resources: dict[str, Any] = doc.get("resources", {})
        self.config_vars: dict[str, Any] = doc.get("config", {}).get("variables", {})

    # -- public -------------------------------------------------------------------------
    def check_resource(self, type_: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
        if type_ == f"pulumi:providers:{self.package}":
            return self._object(inputs, self.config_vars, [], "", provider=True)
        res = self.resources.get(type_)
        if res is None:
            return [("", f"resource type {type_} is not in the {self.package} schema")]
        return self._object(inputs, res.get("inputProperties", {}), res.get("requiredInputs", []), "")

    # -- walking -------------------------------------------------------------------------
    def _object(
        self,
        value: dict[str, Any],
        props: dict[str, Any],
        required: list[str],
        path: str,
        provider: bool = False,
    ) -> list[tuple[str, str]]:
        errs: list[tuple[str, str]] = []
        for key in required:
            if key not in value:
                errs.append((_join(path, key), "required property missing"))
        for key, v in value.items():
            if key.startswith("__") or (provider and key == "version"):
                continue  # engine-internal keys (__defaults, provider plugin version)
            if key not in props:
                errs.append((_join(path, key), f"unknown property (known: {', '.join(sorted(props))})"))
                continue
            errs += self._value(v, props[key], _join(path, key), provider)
        return errs

    def _value(
        self, v: Any, spec: dict[str, Any], path: str, provider: bool = False
    ) -> list[tuple[str, str]]:
        if v == mockrun.UNKNOWN:
            return []
        if isinstance(v, dict) and SIG in v:
            if mockrun.is_secret(v):
                return self._value(v.get("value"), spec, path, provider)
            if v[SIG] == mockrun.RESOURCE_SIG or v[SIG] in ASSET_SIGS:
                return []
            return [(path, f"unexpected special value {v[SIG]}")]
        t = spec.get("type")
        if provider and isinstance(v, str) and ("$ref" in spec or t not in (None, "string")):
            # Provider inputs that are not strings travel JSON-encoded (objects too).
            try:
                decoded = json.loads(v)
            except ValueError:
                decoded = None
                if "$ref" not in spec:
                    return [(path, f"expected {t} (JSON-encoded), got {v!r}")]
            # A $ref may name a string type (an enum): only an object or array is decoded.
            if "$ref" not in spec or isinstance(decoded, dict | list):
                v = decoded
        if "$ref" in spec:
            return self._ref(v, spec["$ref"], path, provider)
        if t == "string":
            return [] if isinstance(v, str) else [(path, f"expected string, got {_kind(v)}")]
        if t == "boolean":
            return [] if isinstance(v, bool) else [(path, f"expected boolean, got {_kind(v)}")]
        if t == "integer":
            ok = isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
            return [] if ok else [(path, f"expected integer, got {_kind(v)} {v!r}")]
        if t == "number":
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            return [] if ok else [(path, f"expected number, got {_kind(v)}")]
        if t == "array":
            if not isinstance(v, list):
                return [(path, f"expected array, got {_kind(v)}")]
            errs: list[tuple[str, str]] = []
            for i, item in enumerate(v):
                errs += self._value(item, spec.get("items", {}), f"{path}[{i}]", provider)
            return errs
        if t == "object":
            if not isinstance(v, dict):
                return [(path, f"expected object (map), got {_kind(v)}")]
            inner = spec.get("additionalProperties", {})
            errs = []
            for k, item in v.items():
                errs += self._value(item, inner, f"{path}[{k!r}]", provider)
            return errs
        return []  # no type given: anything goes

    def _ref(self, v: Any, ref: str, path: str, provider: bool) -> list[tuple[str, str]]:
        if ref.startswith("pulumi.json#/"):
            return []  # Any, Asset, Archive, Json
        name = ref.split("#/types/", 1)[-1]
        if "#/types/" not in ref:
            return []  # a reference into another package: not checked here
        t = self.types.get(name)
        if t is None:
            return [(path, f"schema has no type {name}")]
        if "enum" in t:
            allowed = [e.get("value") for e in t["enum"]]
            return [] if v in allowed else [(path, f"{v!r} not in enum {allowed}")]
        if t.get("type") == "object":
            if not isinstance(v, dict):
                return [(path, f"expected object {name.rsplit(':', 1)[-1]}, got {_kind(v)}")]
            return self._object(v, t.get("properties", {}), t.get("required", []), path, provider)
        return self._value(v, t, path, provider)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(v: Any) -> str:
    return type(v).__name__


def package_of(type_: str) -> str:
    if type_.startswith("pulumi:providers:"):
        return type_.split(":", 2)[2]
    return type_.split(":", 1)[0]


@cache
def load_schema(package: str, directory: str) -> Schema | None:
    """The package's schema, or None when there is no file or it is empty (e.g. vault)."""
    path = Path(directory) / f"{package}.json"
    if not path.exists() or path.stat().st_size == 0:
        return None
    return Schema(package, json.loads(path.read_text()))


def check_run(run: mockrun.Run, directory: Path | None = None) -> Report:
    """Check every custom resource of a captured run. Components (`agent-os:*`) have no
    provider schema and are not resources a provider sees."""
    d = str(directory or schema_dir())
    report = Report()
    for r in run.resources:
        if not r.custom:
            continue
        pkg = package_of(r.type)
        schema = load_schema(pkg, d)
        if schema is None:
            report.skipped[r.urn] = f"no schema for package {pkg!r} (static types cover it)"
            continue
        report.checked.append(r.urn)
        for path, msg in schema.check_resource(r.type, r.inputs):
            report.violations.append(Violation(r.urn, path, msg))
    return report


class SchemaMocks(mockrun.PlatformMocks):
    """PlatformMocks plus every computed output the schema declares and the mock did not
    set, as a placeholder of the declared type. Without this, an input wired from a
    provider-computed output (e.g. keycloak `client.service_account_user_id`) is absent
    under mocks and looks like a missing required property."""

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self.directory = str(directory or schema_dir())

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        rid, state = super().new_resource(args)
        schema = load_schema(package_of(args.typ), self.directory)
        res = schema.resources.get(args.typ) if schema else None
        for key, spec in ((res or {}).get("properties") or {}).items():
            if key in state:
                continue
            t = spec.get("type")
            if t == "string":
                state[key] = f"{args.name}-{key}"
            elif t in ("integer", "number"):
                state[key] = 0
            elif t == "boolean":
                state[key] = False
        return rid, state


def evaluate(stack: str, preview: bool = False, directory: Path | None = None) -> mockrun.Run:
    """The program's run for `stack` with schema-completed computed outputs."""
    return mockrun.run(stack, preview=preview, mocks=SchemaMocks(directory))


def evaluate_with(stack: str, overrides: dict[str, Any]) -> mockrun.Run:
    """Like `evaluate`, with whole config keys replaced (uncached)."""
    return mockrun.run(stack, overrides=overrides, mocks=SchemaMocks())


__all__ = [
    "ENV_VAR",
    "Report",
    "Schema",
    "SchemaMocks",
    "Violation",
    "check_run",
    "evaluate",
    "evaluate_with",
    "load_schema",
    "schema_dir",
]
