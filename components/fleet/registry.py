"""The MCP connector fleet registry (agent-utilities `deploy/mcp-fleet.registry.yml`) and the
desired-state override file, parsed and checked the way the app reads them (platform.md §10).

Pure: no Pulumi. Every problem is a RegistryError naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..config.model import ConfigError

ENTRY_FIELDS = ("name", "package", "console_script", "image", "container_port", "host_port", "profiles")
RUNTIME_FIELDS = ("desired", "replicas", "version", "scaling")
SIGNALS = ("queue_depth", "consumer_lag", "cpu")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RegistryError(ConfigError):
    """A ConfigError, so the config loader (which plans placement, connectors included)
    turns it into the one pulumi.RunError before any resource exists."""

    def __init__(self, path: Path | str, entry: str | None, reason: str) -> None:
        where = f"{path}" + (f": {entry}" if entry else "")
        super().__init__(where, f"{reason} (agent-os:fleet.registryPath/desiredStatePath/profile)")
        self.file = str(path)
        self.entry = entry


@dataclass(frozen=True)
class Scaling:
    max: int
    signal: str
    target: float
    min: int = 1
    cooldown_s: float = 300.0
    deadband: float = 0.05


@dataclass(frozen=True)
class Connector:
    name: str
    package: str
    console_script: str
    image: str
    container_port: int
    host_port: int
    profiles: tuple[str, ...]
    desired: str = "running"
    replicas: int = 1
    version: str | None = None
    scaling: Scaling | None = None

    @property
    def deployed_replicas(self) -> int:
        """What Swarm runs: 0 when stopped, else `replicas` kept inside the scaling bounds."""
        if self.desired == "stopped":
            return 0
        if self.scaling is None:
            return self.replicas
        return min(max(self.replicas, self.scaling.min), self.scaling.max)

    def image_ref(self, image_registry: str) -> str:
        """Full image reference; a desired-state `version` pins the tag."""
        image = self.image
        first = image.split("/", 1)[0]
        if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
            host = image_registry.split("/", 1)[0] if image_registry else "docker.io"
            image = f"{host}/{image}"
        if self.version:
            base = image.split("@", 1)[0]
            name, sep, tag = base.rpartition(":")
            if sep and "/" not in tag:
                base = name
            image = f"{base}:{self.version}"
        return image


@dataclass(frozen=True)
class Registry:
    path: str
    version: int
    defaults: Mapping[str, Any]
    connectors: tuple[Connector, ...]

    @property
    def profiles(self) -> set[str]:
        return {p for c in self.connectors for p in c.profiles}

    def select(self, profile: str) -> list[Connector]:
        if profile not in self.profiles:
            raise RegistryError(
                self.path,
                None,
                f"unknown profile {profile!r} (profiles in the file: {sorted(self.profiles)})",
            )
        return [c for c in self.connectors if profile in c.profiles]

    def to_yaml(self, connectors: list[Connector]) -> str:
        """The registry in its own format, restricted to `connectors` (what is deployed)."""
        doc = {
            "version": self.version,
            "defaults": dict(self.defaults),
            "services": [
                {
                    "name": c.name,
                    "package": c.package,
                    "console_script": c.console_script,
                    "image": c.image,
                    "container_port": c.container_port,
                    "host_port": c.host_port,
                    "profiles": list(c.profiles),
                }
                for c in connectors
            ],
        }
        return yaml.dump(doc, Dumper=_Dumper, sort_keys=False)


# libyaml's C loader when present: the registry is read on every evaluation.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RegistryError(path, None, f"{what} file not found") from None
    except OSError as e:
        raise RegistryError(path, None, f"cannot read {what} file ({e.strerror})") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise RegistryError(path, None, f"malformed YAML{at}: {problem}") from None


def _int(path: Path, entry: str, field: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise RegistryError(path, entry, f"{field} must be an integer in {lo}..{hi} (got {v!r})")
    return v


def _num(path: Path, entry: str, field: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise RegistryError(path, entry, f"{field} must be a number (got {v!r})")
    return float(v)


def _str(path: Path, entry: str, field: str, v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise RegistryError(path, entry, f"{field} must be a non-empty string (got {v!r})")
    return v


def _scaling(path: Path, entry: str, v: Any) -> Scaling | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise RegistryError(path, entry, f"scaling must be a mapping or null (got {v!r})")
    unknown = sorted(set(v) - {"min", "max", "signal", "target", "cooldown_s", "deadband"})
    if unknown:
        raise RegistryError(path, entry, f"unknown scaling field(s) {unknown}")
    for req in ("max", "signal", "target"):
        if req not in v:
            raise RegistryError(path, entry, f"scaling.{req} is required")
    lo = _int(path, entry, "scaling.min", v.get("min", 1), 0, 1000)
    hi = _int(path, entry, "scaling.max", v["max"], 1, 1000)
    if hi < lo:
        raise RegistryError(path, entry, f"scaling.max {hi} is below scaling.min {lo}")
    target = _num(path, entry, "scaling.target", v["target"])
    if target <= 0:
        raise RegistryError(path, entry, f"scaling.target must be > 0 (got {target})")
    deadband = _num(path, entry, "scaling.deadband", v.get("deadband", 0.05))
    if not 0 <= deadband < 1:
        raise RegistryError(path, entry, f"scaling.deadband must be in [0, 1) (got {deadband})")
    cooldown = _num(path, entry, "scaling.cooldown_s", v.get("cooldown_s", 300))
    if cooldown < 0:
        raise RegistryError(path, entry, f"scaling.cooldown_s must be >= 0 (got {cooldown})")
    return Scaling(
        min=lo,
        max=hi,
        signal=_str(path, entry, "scaling.signal", v["signal"]),
        target=target,
        cooldown_s=cooldown,
        deadband=deadband,
    )


def _runtime(path: Path, entry: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "desired" in raw:
        if raw["desired"] not in ("running", "stopped"):
            raise RegistryError(
                path, entry, f"desired must be 'running' or 'stopped' (got {raw['desired']!r})"
            )
        out["desired"] = raw["desired"]
    if "replicas" in raw:
        out["replicas"] = _int(path, entry, "replicas", raw["replicas"], 0, 1000)
    if "version" in raw and raw["version"] is not None:
        version = str(raw["version"])
        if not _TAG.match(version):
            raise RegistryError(path, entry, f"version {version!r} is not an image tag")
        out["version"] = version
    if "scaling" in raw:
        out["scaling"] = _scaling(path, entry, raw["scaling"])
    return out


def _entries(path: Path, doc: Any, what: str) -> list[Any]:
    if not isinstance(doc, dict):
        raise RegistryError(path, None, f"{what} must be a YAML mapping with a `services:` list")
    services = doc.get("services")
    if not isinstance(services, list):
        raise RegistryError(path, None, f"`services` must be a list (got {type(services).__name__})")
    return services


def load_registry(path: Path) -> Registry:
    """Parse and check a registry file: exactly the 7 entry fields (plus optional runtime
    keys), unique names and unique host ports. Cached per file version (path, mtime, size):
    one evaluation asks for it from the placement plan and from the fleet layer."""
    try:
        st = path.stat()
    except OSError:
        return _load_registry(path)  # reports the missing/unreadable file
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[key] = _load_registry(path)
    return _REGISTRY_CACHE[key]


_REGISTRY_CACHE: dict[tuple[str, int, int], Registry] = {}


def _load_registry(path: Path) -> Registry:
    doc = _read_yaml(path, "registry")
    services = _entries(path, doc, "the registry")
    version = doc.get("version")
    if version != 1:
        raise RegistryError(path, None, f"unsupported registry version {version!r} (expected 1)")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RegistryError(path, None, "`defaults` must be a mapping")
    by_name: dict[str, int] = {}
    by_port: dict[int, str] = {}
    connectors: list[Connector] = []
    for i, raw in enumerate(services):
        entry = f"services[{i}]"
        if not isinstance(raw, dict):
            raise RegistryError(path, entry, "entry must be a mapping")
        if isinstance(raw.get("name"), str):
            entry = f"services[{i}] ({raw['name']})"
        missing = [f for f in ENTRY_FIELDS if f not in raw]
        if missing:
            raise RegistryError(path, entry, f"missing field(s) {missing}")
        unknown = sorted(set(raw) - set(ENTRY_FIELDS) - set(RUNTIME_FIELDS))
        if unknown:
            raise RegistryError(path, entry, f"unknown field(s) {unknown}")
        name = _str(path, entry, "name", raw["name"])
        if not _NAME.match(name):
            raise RegistryError(path, entry, f"name {name!r} is not a valid Swarm service/DNS name")
        if name in by_name:
            raise RegistryError(path, entry, f"duplicate name {name!r} (also services[{by_name[name]}])")
        by_name[name] = i
        host_port = _int(path, entry, "host_port", raw["host_port"], 1, 65535)
        if host_port in by_port:
            raise RegistryError(path, entry, f"duplicate host_port {host_port} (also {by_port[host_port]})")
        by_port[host_port] = name
        profiles = raw["profiles"]
        if (
            not isinstance(profiles, list)
            or not profiles
            or not all(isinstance(p, str) and p for p in profiles)
        ):
            raise RegistryError(path, entry, f"profiles must be a non-empty list of names (got {profiles!r})")
        connectors.append(
            Connector(
                name=name,
                package=_str(path, entry, "package", raw["package"]),
                console_script=_str(path, entry, "console_script", raw["console_script"]),
                image=_str(path, entry, "image", raw["image"]),
                container_port=_int(path, entry, "container_port", raw["container_port"], 1, 65535),
                host_port=host_port,
                profiles=tuple(profiles),
                **_runtime(path, entry, raw),
            )
        )
    return Registry(path=str(path), version=version, defaults=defaults, connectors=tuple(connectors))


def apply_desired_state(registry: Registry, path: Path) -> tuple[Registry, str]:
    """Overlay a desired-state file (same shape: `services: [{name, desired, replicas,
    version, scaling}]`). Returns the new registry and the file's text (for the app)."""
    doc = _read_yaml(path, "desired-state")
    known = {c.name for c in registry.connectors}
    changes: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(_entries(path, doc, "the desired-state file")):
        entry = f"services[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise RegistryError(path, entry, "entry must be a mapping with a `name`")
        name = raw["name"]
        entry = f"services[{i}] ({name})"
        unknown = sorted(set(raw) - {"name", *RUNTIME_FIELDS})
        if unknown:
            raise RegistryError(path, entry, f"unknown field(s) {unknown} (allowed: {list(RUNTIME_FIELDS)})")
        if name not in known:
            raise RegistryError(path, entry, f"no service {name!r} in the registry {registry.path}")
        if name in changes:
            raise RegistryError(path, entry, f"duplicate name {name!r}")
        changes[name] = _runtime(path, entry, raw)
    merged = tuple(replace(c, **changes[c.name]) if c.name in changes else c for c in registry.connectors)
    return replace(registry, connectors=merged), path.read_text()
