"""pulumi-docker inputs -> Docker Engine API bodies, for verify/providers/docker.py.

The provider receives each resource's inputs in the engine's camelCase wire form and maps
them, one property at a time, to what the upstream pulumi-docker provider
(kreuzwerker/terraform-provider-docker) sends to the Engine API:

  * every property is either mapped or refused with `UnmappedError` (never dropped
    silently): a property the program starts to use fails the deploy loudly until it is
    mapped here;
  * Go durations ("10s", "5m", "1h30m") become nanoseconds, `{label, value}` lists become
    label maps, `env` maps become `K=V` lists, numbers become ints;
  * IDs (`configId`, `secretId`, network `id`) and images reach the engine as declared;
  * `convergeConfig` is not an engine property: the provider polls until the service
    converges (verify/providers/docker.py).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any


class UnmappedError(Exception):
    """An input property this mapping does not know: refuse rather than drop it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"property {path} has no Engine API mapping in verify/providers/docker_api.py")
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


# -- networks, configs, secrets --------------------------------------------------------------
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


# -- services -------------------------------------------------------------------------------
def _file(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": d["fileName"],
        "UID": str(d.get("fileUid", "0")),
        "GID": str(d.get("fileGid", "0")),
        "Mode": int(d.get("fileMode", 0o444)),
    }


def _container_spec(cs: Mapping[str, Any]) -> dict[str, Any]:
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
            out.append({"SecretID": s["secretId"], "SecretName": s["secretName"], "File": _file(s)})
            extra = set(s) - {"secretId", "secretName", "fileName", "fileUid", "fileGid", "fileMode"}
            if extra:
                raise UnmappedError(f"taskSpec.containerSpec.secrets[].{sorted(extra)[0]}")
        return "Secrets", out

    def configs(items: list[dict[str, Any]]) -> tuple[str, Any]:
        out = []
        for c in items:
            out.append({"ConfigID": c["configId"], "ConfigName": c["configName"], "File": _file(c)})
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
            "image": _as("Image"),
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


def service(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """kwargs for `APIClient.create_service` (and, key by key, `update_service`)."""
    ts = inputs["taskSpec"]

    def nets(items: list[dict[str, Any]]) -> tuple[str, Any]:
        out = []
        for n in items:
            target = str(n.get("id") or n.get("name"))
            d: dict[str, Any] = {"Target": target}
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
            "containerSpec": lambda cs: ("ContainerSpec", _container_spec(cs)),
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
    return kwargs


# -- standalone containers (the admin tunnel) ------------------------------------------------
def container(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """kwargs for `DockerClient.containers.create` (the image as declared)."""

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
            "image": _as("image"),
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
