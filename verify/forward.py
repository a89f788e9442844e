"""Translate captured pulumi-docker inputs into Docker Engine API specs, exactly as declared.

The program's docker resources are captured under mocks (`tools/mockrun`, camelCase wire
form). This module maps them, one property at a time, to the Engine API objects the
pulumi-docker provider (kreuzwerker/terraform-provider-docker) sends, so the real engine
judges what the program declared. The mapping is deliberately small and explicit:

  * every captured property is either mapped or refused with `UnmappedError` (never dropped
    silently): a property a later layer starts to use makes the real-swarm suite fail
    loudly until it is mapped here;
  * Go durations ("10s", "5m", "1h30m") become nanoseconds, `{label, value}` lists become
    label maps, `env` maps become `K=V` lists, numbers become ints;
  * mock IDs (`<logical>-id`, what the program passes as `config_id`, `secret_id`,
    network `id`) are resolved to the real engine IDs of the objects forwarded earlier;
  * the ONLY substitution is the image: `image_for(service_name, declared_image)` returns
    the stand-in (see verify/standin.py); everything else reaches the engine unchanged;
  * `convergeConfig` is not an engine property: the provider polls until the service
    converges. The suite does the same (verify/engine.py `wait_converged`) with the
    declared timeout and delay.

Secret values are unwrapped only here, on the way to the local test engine.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tools import mockrun

NETWORK = "docker:index/network:Network"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
SECRET = "docker:index/secret:Secret"
VOLUME = "docker:index/volume:Volume"
SERVICE = "docker:index/service:Service"
CONTAINER = "docker:index/container:Container"
# Forwarded in this order: everything a service references exists before it.
ORDER = (NETWORK, VOLUME, CONFIG, SECRET, SERVICE, CONTAINER)


class UnmappedError(Exception):
    """A captured property this mapping does not know: refuse rather than drop it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"property {path} has no Engine API mapping in verify/forward.py")
        self.path = path


_DUR = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def duration_ns(s: str) -> int:
    """Go duration string -> nanoseconds ("1m30s" -> 90e9). "0" and "" are 0."""
    if s in ("", "0"):
        return 0
    parts = _DUR.findall(s)
    if not parts or "".join(a + b for a, b in parts) != s:
        raise ValueError(f"not a Go duration: {s!r}")
    return int(sum(float(n) * _UNIT[u] for n, u in parts))


def labels(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {x["label"]: x["value"] for x in items or []}


def _take(d: Mapping[str, Any], path: str, mapping: Mapping[str, Callable[[Any], tuple[str, Any]]]) -> dict:
    """Map each key of `d` through `mapping[key](value) -> (EngineKey, engine_value)`."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None:
            continue
        if k not in mapping:
            raise UnmappedError(f"{path}.{k}" if path else k)
        ek, ev = mapping[k](v)
        out[ek] = ev
    return out


def _as(key: str, conv: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], tuple[str, Any]]:
    return lambda v: (key, conv(v))


def _int(v: Any) -> int:
    return int(v)


def _dur(v: Any) -> int:
    return duration_ns(str(v))


Resolve = Callable[[str], str]  # mock ID -> real engine ID
ImageFor = Callable[[str, str], str]  # (service name, declared image) -> image to run


# -- networks, configs, secrets, volumes ------------------------------------------------------
def network(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """kwargs for `APIClient.create_network`."""

    def ipam(configs: list[dict[str, Any]]) -> dict[str, Any]:
        m = {"subnet": _as("Subnet"), "gateway": _as("Gateway"), "ipRange": _as("IPRange")}
        m["auxAddress"] = _as("AuxiliaryAddresses")
        return {"Driver": "default", "Config": [_take(c, "ipamConfigs[]", m) for c in configs]}

    body = _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "driver": _as("driver"),
            "attachable": _as("attachable", bool),
            "internal": _as("internal", bool),
            "ipv6": _as("enable_ipv6", bool),
            "ingress": _as("ingress", bool),
            "options": _as("options", dict),
            "labels": _as("labels", labels),
            "ipamConfigs": _as("ipam", ipam),
        },
    )
    return body


def config(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """kwargs for `APIClient.create_config`. `data` is base64 (provider contract)."""
    return _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "data": _as("data", lambda v: base64.b64decode(v)),
            "dataRaw": _as("data", lambda v: str(v).encode()),
            "labels": _as("labels", labels),
        },
    )


def secret(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """kwargs for `APIClient.create_secret` (inputs already unwrapped)."""
    return _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "data": _as("data", lambda v: base64.b64decode(v)),
            "labels": _as("labels", labels),
        },
    )


def volume(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "driver": _as("driver"),
            "driverOpts": _as("driver_opts", dict),
            "labels": _as("labels", labels),
        },
    )


# -- services -------------------------------------------------------------------------------
def _file(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": d["fileName"],
        "UID": str(d.get("fileUid", "0")),
        "GID": str(d.get("fileGid", "0")),
        "Mode": int(d.get("fileMode", 0o444)),
    }


def _container_spec(cs: Mapping[str, Any], resolve: Resolve, image: str) -> dict[str, Any]:
    def health(h: dict[str, Any]) -> tuple[str, Any]:
        return "Healthcheck", _take(
            h,
            "healthcheck",
            {
                "tests": _as("Test", list),
                "interval": _as("Interval", _dur),
                "timeout": _as("Timeout", _dur),
                "retries": _as("Retries", _int),
                "startPeriod": _as("StartPeriod", _dur),
            },
        )

    def secrets(items: list[dict[str, Any]]) -> tuple[str, Any]:
        out = []
        for s in items:
            out.append({"SecretID": resolve(s["secretId"]), "SecretName": s["secretName"], "File": _file(s)})
            extra = set(s) - {"secretId", "secretName", "fileName", "fileUid", "fileGid", "fileMode"}
            if extra:
                raise UnmappedError(f"taskSpec.containerSpec.secrets[].{sorted(extra)[0]}")
        return "Secrets", out

    def configs(items: list[dict[str, Any]]) -> tuple[str, Any]:
        out = []
        for c in items:
            out.append({"ConfigID": resolve(c["configId"]), "ConfigName": c["configName"], "File": _file(c)})
            extra = set(c) - {"configId", "configName", "fileName", "fileUid", "fileGid", "fileMode"}
            if extra:
                raise UnmappedError(f"taskSpec.containerSpec.configs[].{sorted(extra)[0]}")
        return "Configs", out

    def mount(m: dict[str, Any]) -> dict[str, Any]:
        return _take(
            m,
            "taskSpec.containerSpec.mounts[]",
            {
                "type": _as("Type"),
                "source": _as("Source"),
                "target": _as("Target"),
                "readOnly": _as("ReadOnly", bool),
                "volumeOptions": _as(
                    "VolumeOptions",
                    lambda o: _take(
                        o,
                        "volumeOptions",
                        {
                            "noCopy": _as("NoCopy", bool),
                            "labels": _as("Labels", labels),
                            "driverName": lambda v: ("DriverConfig", {"Name": v, **_drv_opts(o)}),
                            "driverOptions": lambda v: ("_driverOptions", v),
                        },
                    ),
                ),
                "bindOptions": _as(
                    "BindOptions", lambda o: _take(o, "bindOptions", {"propagation": _as("Propagation")})
                ),
                "tmpfsOptions": _as(
                    "TmpfsOptions",
                    lambda o: _take(
                        o, "tmpfsOptions", {"sizeBytes": _as("SizeBytes", _int), "mode": _as("Mode", _int)}
                    ),
                ),
            },
        )

    spec = _take(
        cs,
        "taskSpec.containerSpec",
        {
            "image": lambda v: ("Image", image),
            "commands": _as("Command", list),
            "args": _as("Args", list),
            "env": _as("Env", lambda e: [f"{k}={v}" for k, v in sorted(e.items())]),
            "dir": _as("Dir"),
            "user": _as("User"),
            "groups": _as("Groups", list),
            "hostname": _as("Hostname"),
            "readOnly": _as("ReadOnly", bool),
            "init": _as("Init", bool),
            "capDrops": _as("CapabilityDrop", list),
            "capAdds": _as("CapabilityAdd", list),
            "stopSignal": _as("StopSignal"),
            "stopGracePeriod": _as("StopGracePeriod", _dur),
            "healthcheck": health,
            "secrets": secrets,
            "configs": configs,
            "mounts": _as("Mounts", lambda ms: [mount(m) for m in ms]),
            "labels": _as("Labels", labels),
            "hosts": _as("Hosts", lambda hs: [f"{h['ip']} {h['host']}" for h in hs]),
            "dnsConfig": _as(
                "DNSConfig",
                lambda d: _take(
                    d,
                    "dnsConfig",
                    {
                        "nameservers": _as("Nameservers", list),
                        "searches": _as("Search", list),
                        "options": _as("Options", list),
                    },
                ),
            ),
            "sysctl": _as("Sysctls", dict),
        },
    )
    for m in spec.get("Mounts", []):
        vo = m.get("VolumeOptions")
        if vo is not None:
            vo.pop("_driverOptions", None)
    return spec


def _drv_opts(o: dict[str, Any]) -> dict[str, Any]:
    return {"Options": dict(o["driverOptions"])} if o.get("driverOptions") else {}


def _res(d: dict[str, Any], path: str) -> dict[str, Any]:
    return _take(d, path, {"memoryBytes": _as("MemoryBytes", _int), "nanoCpus": _as("NanoCPUs", _int)})


def _update_like(d: Mapping[str, Any], path: str) -> dict[str, Any]:
    return _take(
        d,
        path,
        {
            "parallelism": _as("Parallelism", _int),
            "delay": _as("Delay", _dur),
            "failureAction": _as("FailureAction"),
            "monitor": _as("Monitor", _dur),
            "maxFailureRatio": _as("MaxFailureRatio", float),
            "order": _as("Order"),
        },
    )


@dataclass(frozen=True)
class ServiceCall:
    """kwargs for `APIClient.create_service` / `update_service`, plus what the provider
    does client-side (converge wait)."""

    kwargs: dict[str, Any]
    converge_timeout_ns: int | None
    converge_delay_ns: int | None


def service(inputs: Mapping[str, Any], resolve: Resolve, image_for: ImageFor) -> ServiceCall:
    name = inputs["name"]
    ts = inputs["taskSpec"]
    image = image_for(name, ts["containerSpec"]["image"])

    def nets(items: list[dict[str, Any]]) -> tuple[str, Any]:
        out = []
        for n in items:
            target = str(n.get("id") or n.get("name"))
            d: dict[str, Any] = {"Target": resolve(target)}
            if n.get("aliases"):
                d["Aliases"] = list(n["aliases"])
            if n.get("driverOpts"):
                d["DriverOpts"] = dict(n["driverOpts"])
            extra = set(n) - {"id", "name", "aliases", "driverOpts"}
            if extra:
                raise UnmappedError(f"taskSpec.networksAdvanceds[].{sorted(extra)[0]}")
            out.append(d)
        return "Networks", out

    task = _take(
        ts,
        "taskSpec",
        {
            "containerSpec": lambda cs: ("ContainerSpec", _container_spec(cs, resolve, image)),
            "networksAdvanceds": nets,
            "placement": _as(
                "Placement",
                lambda p: _take(
                    p,
                    "taskSpec.placement",
                    {
                        "constraints": _as("Constraints", list),
                        "prefs": _as(
                            "Preferences",
                            lambda ps: [{"Spread": {"SpreadDescriptor": x.split("=", 1)[1]}} for x in ps],
                        ),
                        "maxReplicas": _as("MaxReplicas", _int),
                        "platforms": _as(
                            "Platforms",
                            lambda ps: [{"Architecture": x["architecture"], "OS": x["os"]} for x in ps],
                        ),
                    },
                ),
            ),
            "resources": _as(
                "Resources",
                lambda r: _take(
                    r,
                    "taskSpec.resources",
                    {
                        "limits": _as("Limits", lambda d: _res(d, "taskSpec.resources.limits")),
                        "reservation": _as(
                            "Reservations", lambda d: _res(d, "taskSpec.resources.reservation")
                        ),
                    },
                ),
            ),
            "restartPolicy": _as(
                "RestartPolicy",
                lambda r: _take(
                    r,
                    "taskSpec.restartPolicy",
                    {
                        "condition": _as("Condition"),
                        "delay": _as("Delay", _dur),
                        "maxAttempts": _as("MaxAttempts", _int),
                        "window": _as("Window", _dur),
                    },
                ),
            ),
            "logDriver": _as(
                "LogDriver", lambda d: {"Name": d["name"], "Options": dict(d.get("options") or {})}
            ),
            "forceUpdate": _as("ForceUpdate", _int),
            "runtime": _as("Runtime"),
        },
    )

    def mode(m: dict[str, Any]) -> tuple[str, Any]:
        if m.get("global"):
            return "mode", {"Global": {}}
        return "mode", {"Replicated": {"Replicas": int(m.get("replicated", {}).get("replicas", 1))}}

    def endpoint(e: dict[str, Any]) -> tuple[str, Any]:
        port = {
            "name": _as("Name"),
            "protocol": _as("Protocol"),
            "targetPort": _as("TargetPort", _int),
            "publishedPort": _as("PublishedPort", _int),
            "publishMode": _as("PublishMode"),
        }
        return "endpoint_spec", _take(
            e,
            "endpointSpec",
            {
                "mode": _as("Mode"),
                "ports": _as("Ports", lambda ps: [_take(p, "endpointSpec.ports[]", port) for p in ps]),
            },
        )

    converge: dict[str, Any] = dict(inputs.get("convergeConfig") or {})
    kwargs = _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "labels": _as("labels", labels),
            "mode": mode,
            "taskSpec": lambda _v: ("task_template", task),
            "endpointSpec": endpoint,
            "updateConfig": _as("update_config", lambda d: _update_like(d, "updateConfig")),
            "rollbackConfig": _as("rollback_config", lambda d: _update_like(d, "rollbackConfig")),
            "convergeConfig": lambda _v: ("_converge", None),
        },
    )
    kwargs.pop("_converge", None)
    return ServiceCall(
        kwargs=kwargs,
        converge_timeout_ns=_dur(converge["timeout"]) if "timeout" in converge else None,
        converge_delay_ns=_dur(converge["delay"]) if "delay" in converge else None,
    )


# -- standalone containers (the admin tunnel) ------------------------------------------------
def container(inputs: Mapping[str, Any], image: str) -> dict[str, Any]:
    """kwargs for `DockerClient.containers.run(detach=True, ...)`."""

    def ports(ps: list[dict[str, Any]]) -> tuple[str, Any]:
        out: dict[str, Any] = {}
        for p in ps:
            key = f"{int(p['internal'])}/{p.get('protocol', 'tcp')}"
            ext = int(p["external"]) if "external" in p else None
            out[key] = (p["ip"], ext) if p.get("ip") else ext
        return "ports", out

    def nets(ns: list[dict[str, Any]]) -> tuple[str, Any]:
        if len(ns) != 1 or set(ns[0]) - {"name"}:
            raise UnmappedError("networksAdvanced (only one network by name is mapped)")
        return "network", ns[0]["name"]

    return _take(
        inputs,
        "",
        {
            "name": _as("name"),
            "image": lambda _v: ("image", image),
            "command": _as("command", list),
            "entrypoints": _as("entrypoint", list),
            "envs": _as("environment", list),
            "ports": ports,
            "networksAdvanced": nets,
            "restart": _as("restart_policy", lambda r: {"Name": r}),
            "capabilities": lambda c: ("cap_drop", list(c.get("drops") or [])),
            "readOnly": _as("read_only", bool),
            "memory": _as("mem_limit", lambda mb: f"{int(mb)}m"),
            "labels": _as("labels", labels),
            "user": _as("user"),
        },
    )


def plain(r: mockrun.Registered) -> dict[str, Any]:
    """Captured inputs with secret wrappers removed; fails on unknowns (preview runs)."""
    inputs = r.plain
    if mockrun.UNKNOWN in repr(inputs):
        raise ValueError(f"{r.urn}: inputs contain unknowns; forward a preview=False run")
    return inputs


__all__ = [
    "CONFIG",
    "CONTAINER",
    "NETWORK",
    "ORDER",
    "SECRET",
    "SERVICE",
    "VOLUME",
    "ServiceCall",
    "UnmappedError",
    "config",
    "container",
    "duration_ns",
    "network",
    "plain",
    "secret",
    "service",
    "volume",
]
