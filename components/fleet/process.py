"""What every agent-utilities process of the tier shares: image, user, read-only root,
config.json + ActionPolicy + registry mounts, secrets exported to env by `with-secrets`,
and the effective-environment check of the env-alias rule.

A service file (gateway.py, kg_daemon.py, ...) describes its process as an `AppProcess`
(pure); `AppContext.plan` checks it and `AppContext.spec` turns it into a ServiceSpec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker

from ..config import StackConfig
from ..config.fleet import WorkerFleet
from ..config.resources import Resources
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import (
    BindMount,
    ConfigFile,
    HealthCheck,
    Platform,
    SecretFile,
    ServiceSpec,
    TmpfsMount,
    VolumeMount,
)
from ..swarm.entrypoint import Entrypoint, SecretEnv
from ..swarm.spec import SECRETS_DIR
from .appconfig import (
    CONFIG_DIR,
    CONFIG_PATH,
    EnvValue,
    FromSecret,
    effective_env,
)

USER = "10001"
IMAGE_KEY = "agent-utilities"
TMP = "/tmp"  # the image's HOME (XDG_CONFIG_HOME=$HOME/.config) lives here
CLIENT_DATA_DIR = f"{TMP}/agent-utilities"
HOST_DATA_DIR = "/var/lib/agent-utilities"


def data_env(data_dir: str) -> dict[str, str]:
    """Where a process keeps its data (its HOME too), and its agent workspace under it: the server
    scaffolds the workspace at start (0.52.0 core/workspace.py, WORKSPACE_PATH, else its
    own package directory) and its session store makes one too (core/sessions.py,
    AGENT_WORKSPACE, else ./workspace); the root filesystem is read-only."""
    workspace = f"{data_dir}/workspace"
    # HOME as well: the app writes ~/.agents (its governance loop), whatever HOME the image
    # sets (the test image's /home/app is on the read-only root: EROFS).
    return {
        "AGENT_UTILITIES_DATA_DIR": data_dir,
        "WORKSPACE_PATH": workspace,
        "AGENT_WORKSPACE": workspace,
        "HOME": data_dir,
    }


def http_health(port: int, path: str, **kw: str | int) -> HealthCheck:
    """HTTP probe with the image's own Python (python:slim has no curl/wget)."""
    code = (
        "import sys,urllib.request as u;"
        f"sys.exit(0 if u.urlopen('http://127.0.0.1:{port}{path}',timeout=4).status==200 else 1)"
    )
    return HealthCheck(test=("CMD", "python", "-c", code), **kw)  # type: ignore[arg-type]


def process_health(program: str, **kw: str | int) -> HealthCheck:
    """Liveness for processes without a listener (workers, headless UI): is `program` running."""
    code = (
        "import os,sys;"
        "sys.exit(0 if any("
        f"b'{program}' in open('/proc/'+p+'/cmdline','rb').read() "
        "for p in os.listdir('/proc') if p.isdigit()) else 1)"
    )
    return HealthCheck(test=("CMD", "python", "-c", code), **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SecretRef:
    """A Docker secret file the entrypoint exports as env `env` (resource bound later)."""

    env: str
    file_name: str

    @property
    def path(self) -> str:
        return f"{SECRETS_DIR}/{self.file_name}"


@dataclass(frozen=True, kw_only=True)
class AppProcess:
    """One agent-utilities process, before resources: what the env-alias check reads."""

    placement: Placement  # name, tier, constraints, replicas: from the fleet's plan
    role: str  # KG_DAEMON_ROLE: exactly one "host" in the whole stack
    program: tuple[str, ...]
    env: Mapping[str, str]
    secrets: tuple[SecretRef, ...]
    networks: tuple[Layer, ...]
    resources: Resources
    health: HealthCheck
    stateful: bool = False
    image_key: str = IMAGE_KEY
    reads_config: bool = True  # mounts config.json (agent-utilities processes)
    volumes: tuple[VolumeMount, ...] = ()
    binds: tuple[BindMount, ...] = ()
    spread: tuple[str, ...] = ("node.id",)
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    user: str | None = f"{USER}:{USER}"
    read_only: bool = True
    stop_grace_period: str = "30s"

    @property
    def name(self) -> str:
        return self.placement.service

    @property
    def replicas(self) -> int | None:
        return self.placement.replicas

    def env_values(self) -> dict[str, EnvValue]:
        """Env as the process sees it at start: plain values plus the secret exports."""
        out: dict[str, EnvValue] = dict(self.env)
        for s in self.secrets:
            out[s.env] = FromSecret(s.path)
        return out


def consumer_fleet(
    cfg: StackConfig,
    placement: Placement,
    fleet: WorkerFleet,
    common: tuple[SecretRef, ...],
    stop_grace_period: str,
) -> AppProcess:
    """A KG client worker fleet (`<name> [--workers N]`): replicas from config, else the
    capacity model, else 1."""
    flags = ("--workers", str(fleet.processes)) if fleet.processes else ()
    name = placement.service
    return AppProcess(
        placement=placement,
        role="client",
        # Brokers and DSNs come from config.json/secrets, like every other process.
        program=(name, *flags),
        env={"KG_DAEMON_ROLE": "client", **data_env(CLIENT_DATA_DIR), **cfg.app.extra_env},
        secrets=common,
        networks=(Layer.AGENTS, Layer.DATA, Layer.CORE),
        resources=fleet.resources,
        health=process_health(name, interval="30s", retries=3, start_period="30s"),
        stop_grace_period=stop_grace_period,
    )


def effective(p: AppProcess, documents: Mapping[str, Mapping[str, Any]]) -> dict[str, EnvValue]:
    """The env-alias rule for `p` (with the config.json of its role); raises EnvConflictError."""
    env = p.env_values()
    if p.reads_config:
        env["AGENT_UTILITIES_CONFIG_DIR"] = CONFIG_DIR
    return effective_env(p.name, env, documents[p.role] if p.reads_config else {})


@dataclass(frozen=True)
class AppContext:
    platform: Platform
    entrypoint: Entrypoint
    config_files: Mapping[str, docker.ServiceConfig]  # config.json per KG role
    shared_files: tuple[ConfigFile, ...]  # ActionPolicy, registry, desired state
    secrets: Mapping[str, docker.Secret]  # by env name

    def spec(self, p: AppProcess, depends_on: tuple[pulumi.Resource, ...] = ()) -> ServiceSpec:
        env: dict[str, str] = dict(p.env)
        configs: list[ConfigFile] = []
        if p.reads_config:
            env["AGENT_UTILITIES_CONFIG_DIR"] = CONFIG_DIR
            configs.append(ConfigFile(config=self.config_files[p.role], target=CONFIG_PATH))
            configs.extend(self.shared_files)
        command: tuple[str, ...] = ()
        secrets: tuple[SecretFile, ...] = ()
        if p.secrets:
            exports = [
                SecretEnv(env=r.env, secret=self.secrets[r.env], file_name=r.file_name) for r in p.secrets
            ]
            wrapped = self.entrypoint.wrap(exports, uid=USER, gid=USER)
            command = wrapped.command
            env.update(wrapped.env)
            secrets = wrapped.secrets
            configs.extend(wrapped.configs)
        return ServiceSpec(
            placement=p.placement,
            image=self.platform.image(p.image_key),
            command=command,
            args=p.program,
            env=env,
            secrets=secrets,
            configs=tuple(configs),
            volumes=p.volumes,
            binds=p.binds,
            tmpfs=(TmpfsMount(target=TMP, size_bytes=256 * 1024**2),),
            resources=p.resources,
            networks=p.networks,
            stateful=p.stateful,
            spread=p.spread,
            user=p.user,
            read_only=p.read_only,
            stop_grace_period=p.stop_grace_period,
            labels={"agent-os.kind": "app", **p.labels},
            health=p.health,
            depends_on=depends_on,
        )
