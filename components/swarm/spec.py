"""The typed description of one Swarm service. Every component builds these; only
`service.py` turns them into pulumi_docker resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from ..config.resources import Resources
from ..config.swarm import Layer
from ..model import Placement

# Where secret files land and who reads them, unless a service says otherwise.
SECRETS_DIR = "/run/secrets"


@dataclass(frozen=True, kw_only=True)
class SecretFile:
    secret: docker.Secret
    target: str  # absolute path inside the container
    uid: str = "0"
    gid: str = "0"
    mode: int = 0o400


@dataclass(frozen=True, kw_only=True)
class ConfigFile:
    config: docker.ServiceConfig
    target: str
    uid: str = "0"
    gid: str = "0"
    mode: int = 0o444


@dataclass(frozen=True, kw_only=True)
class VolumeMount:
    source: str  # volume name, node-local; created by Swarm on the node the task lands on
    target: str
    read_only: bool = False


@dataclass(frozen=True, kw_only=True)
class BindMount:
    source: str
    target: str
    read_only: bool = True


@dataclass(frozen=True, kw_only=True)
class TmpfsMount:
    target: str
    size_bytes: int = 64 * 1024**2
    mode: int = 0o1777


@dataclass(frozen=True, kw_only=True)
class Port:
    target: int
    published: int
    protocol: str = "tcp"


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    test: tuple[str, ...]
    interval: str = "15s"
    timeout: str = "5s"
    retries: int = 5
    start_period: str = "20s"

    @staticmethod
    def shell(cmd: str, **kw: str | int) -> HealthCheck:
        return HealthCheck(test=("CMD-SHELL", cmd), **kw)  # type: ignore[arg-type]

    @staticmethod
    def wget(port: int, path: str, **kw: str | int) -> HealthCheck:
        """HTTP probe for images that ship busybox/GNU wget."""
        return HealthCheck.shell(f"wget -q -O /dev/null http://127.0.0.1:{port}{path} || exit 1", **kw)

    @staticmethod
    def python_tcp(port: int, **kw: str | int) -> HealthCheck:
        """TCP probe for Python images (python:slim has no `nc`, and its /bin/sh is dash)."""
        code = f"import socket;socket.create_connection(('127.0.0.1',{port}),timeout=5).close()"
        return HealthCheck(test=("CMD", "python", "-c", code), **kw)  # type: ignore[arg-type]

    @staticmethod
    def tcp(port: int, **kw: str | int) -> HealthCheck:
        """TCP probe for any image with a POSIX shell plus either an `nc` that knows `-z`
        or bash (/bin/sh may be dash, which has no /dev/tcp, so bash is called by name)."""
        return HealthCheck.shell(
            f"nc -z 127.0.0.1 {port} 2>/dev/null || bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null",
            **kw,
        )


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    placement: Placement  # name, tier, constraints and replicas: from the layer's plan
    image: str
    health: HealthCheck
    resources: Resources
    networks: tuple[Layer, ...]
    # Stateful services run stop-first (never two tasks on one volume/lock).
    stateful: bool = False
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, pulumi.Input[str]])
    secrets: tuple[SecretFile, ...] = ()
    configs: tuple[ConfigFile, ...] = ()
    volumes: tuple[VolumeMount, ...] = ()
    binds: tuple[BindMount, ...] = ()
    tmpfs: tuple[TmpfsMount, ...] = ()
    spread: tuple[str, ...] = ()
    user: str | None = None
    read_only: bool = False
    cap_drop: tuple[str, ...] = ("ALL",)
    cap_add: tuple[str, ...] = ()
    init: bool = True
    hostname: str | None = None
    stop_grace_period: str = "30s"
    aliases: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    depends_on: tuple[pulumi.Resource, ...] = ()

    @property
    def name(self) -> str:
        """The Swarm service name, which is also its DNS name on the overlays."""
        return self.placement.service

    @property
    def layer(self) -> Layer:
        return self.placement.tier

    @property
    def replicas(self) -> int | None:
        """None: global mode."""
        return self.placement.replicas

    @property
    def constraints(self) -> tuple[str, ...]:
        return self.placement.constraints

    @property
    def ports(self) -> tuple[Port, ...]:
        """Host-mode ports, from the placement (target = published)."""
        return tuple(
            Port(target=p.port, published=p.port, protocol=p.protocol) for p in self.placement.host_ports
        )

    @property
    def max_replicas_per_node(self) -> int | None:
        return self.placement.max_replicas_per_node

    def __post_init__(self) -> None:
        if self.ports and self.layer is not Layer.EDGE:
            raise ValueError(f"service {self.name}: only edge services publish ports")
        if self.replicas is not None and self.replicas < 0:
            raise ValueError(f"service {self.name}: replicas must be >= 0")
        if self.stateful and self.replicas not in (0, 1):
            raise ValueError(f"service {self.name}: a stateful member runs one replica")
        for path in [s.target for s in self.secrets] + [c.target for c in self.configs]:
            if not path.startswith("/"):
                raise ValueError(f"service {self.name}: mount target {path!r} is not absolute")
