"""agent-utilities tier sizing, the MCP connector fleet, the UIs and rung (e) autonomy.

`registryPath`/`desiredStatePath` are relative to the project directory (where
Pulumi.yaml is); the registry is read from the shared data folder, never copied in.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from .app import connector_env_reason
from .base import ConfigModel, HttpUrl, Loc, NodeLabel, SocketPath, http_url, raise_all
from .resources import Resources

Replicas = Annotated[int, Field(ge=0, le=1000)]
Interval = Annotated[float, Field(gt=0, le=86400)]


class Tier(StrEnum):
    AUTO = "auto"
    AUTO_NOTIFY = "auto_notify"
    APPROVAL_REQUIRED = "approval_required"
    FORBIDDEN = "forbidden"


class Actuator(StrEnum):
    DRYRUN = "dryrun"
    DOCKER = "docker"


class RateLimit(ConfigModel):
    max: Annotated[int, Field(ge=0)] = 3
    window_s: Annotated[int, Field(ge=1)] = 3600


class BlastRadius(ConfigModel):
    max_targets: Annotated[int, Field(ge=0)] = 3
    window_s: Annotated[int, Field(ge=1)] = 3600


# An ActionPolicy glob (fnmatch): action kinds and service names, nothing else.
Glob = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.*?!\[\]/:-]{1,128}$")]


class PolicyRule(ConfigModel):
    kind: Glob
    target: Glob = "*"
    tier: Tier
    rate_limit: RateLimit | None = None
    blast_radius: BlastRadius | None = None
    maintenance_window: (
        Annotated[str, Field(pattern=r"^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$")] | None
    ) = None


# platform.md §11 (deploy/action-policy.default.yml): the shipped posture. Every
# mutating action waits for a human; the default tier catches anything unlisted.
_AUTO = (
    "diagnose",
    "observe",
    "notify",
    "reaction",
    "record_dry_run",
    "workspace.cmd",
    "workspace.write",
    "workspace.edit",
    "workspace.browse",
    "run.discard",
)
_AUTO_NOTIFY = (
    "message.send",
    "bus.send",
    "bus.dispatch",
    "work_item.execute",
    "workspace.computer_use",
    "run_playbook",
)
APPROVAL_REQUIRED_ACTIONS = (
    "restart_service",
    "rollback_service",
    "scale_service",
    "deploy_service",
    "redeploy_stack",
    "merge_promotion",
    "promote_mined_claim",
    "promote_skill_version",
    "promote_prompt_version",
    "promote_tool_description_version",
    "route_policy_update",
    "spec_promotion",
    "secret.set",
    "secret.delete",
    "config.set",
    "run.select",
    "apply_placement_change",
    "ontology_proposal_promotion",
)


def default_rules() -> list[PolicyRule]:
    return [
        *(PolicyRule(kind=k, tier=Tier.AUTO) for k in _AUTO),
        *(PolicyRule(kind=k, tier=Tier.AUTO_NOTIFY) for k in _AUTO_NOTIFY),
        *(PolicyRule(kind=k, tier=Tier.APPROVAL_REQUIRED) for k in APPROVAL_REQUIRED_ACTIONS),
    ]


class ActionPolicyConfig(ConfigModel):
    tier: Tier = Tier.APPROVAL_REQUIRED
    rate_limit: RateLimit = RateLimit()
    blast_radius: BlastRadius = BlastRadius()
    rules: list[PolicyRule] = Field(default_factory=default_rules)


class AutonomyConfig(ConfigModel):
    """Rung (e). Inert by default exactly as the recipe ships it."""

    reconciler: bool = False
    reconciler_interval: Interval = 120.0
    reconciler_max_actions: Annotated[int, Field(ge=1, le=1000)] = 5
    actuator: Actuator = Actuator.DRYRUN
    # Host path of the Docker socket on the KG daemon's node; required for actuator=docker
    # (the daemon is then pinned to a manager and the socket is mounted).
    docker_socket: SocketPath | None = None
    # Group owning the socket on that node (the daemon runs as uid 10001 with this gid).
    docker_socket_gid: Annotated[int, Field(ge=0, le=2**31)] | None = None
    autoscaler: bool = False
    autoscaler_interval: Interval = 60.0
    # SCALING_PROMETHEUS_URL from the LGTM stack when true (and LGTM is on).
    scaling_prometheus: bool = True
    action_policy: ActionPolicyConfig = ActionPolicyConfig()

    @model_validator(mode="after")
    def _socket_only_for_docker(self) -> AutonomyConfig:
        # A host path is mounted only for the feature that needs it: the docker actuator.
        found: list[tuple[Loc, str]] = []
        if self.docker_socket is not None and self.actuator is not Actuator.DOCKER:
            found.append(
                (
                    ("dockerSocket",),
                    f"is only mounted for actuator 'docker' (actuator is {self.actuator.value!r}); remove it",
                )
            )
        if self.docker_socket_gid is not None and self.docker_socket is None:
            found.append(
                (
                    ("dockerSocketGid",),
                    "is the group of agent-os:fleet.autonomy.dockerSocket, which is not set",
                )
            )
        raise_all(found, self.model_dump(by_alias=True))
        return self


class WorkerFleet(ConfigModel):
    # None: from the capacity model (agent-os:capacity.residents), else 1.
    replicas: Replicas | None = None
    # `--workers N` per container; None lets the process autosize.
    processes: Annotated[int, Field(ge=1, le=256)] | None = None
    resources: Resources = Resources(memory="1g", cpus=1.0)


class UiConfig(ConfigModel):
    enabled: bool = True
    replicas: Replicas = 1
    port: Annotated[int, Field(ge=1024, le=65535)] = 8080
    resources: Resources = Resources(memory="512m", cpus=0.5)


class FleetConfig(ConfigModel):
    # Connector registry in the agent-utilities format (deploy/mcp-fleet.registry.yml).
    registry_path: str = "../shared/data/mcp-fleet.registry.yml"
    profile: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")] = "enterprise"
    # Desired-state override (desired/replicas/version/scaling per service), as the app reads it.
    desired_state_path: str | None = None
    # Node label the connectors are placed by (node.labels.<label>==true); None: anywhere.
    connector_node_label: NodeLabel | None = None
    connector_resources: Resources = Resources(memory="256m", cpus=0.25)
    # graph-os reaches connector <name> at this URL ({name} is the registry/service name).
    mcp_url_template: str = "http://{name}:8000/mcp"
    # EUNOMIA_TYPE=remote + EUNOMIA_REMOTE_URL on every connector, when set.
    eunomia_remote_url: HttpUrl | None = None
    # Credentials a connector needs, by connector name: the env variable names it reads.
    # Values: the secret object agent-os:connectorCredentials ({connector: {VAR: value}}),
    # e.g. `pulumi config set --secret --path 'agent-os:connectorCredentials.github-mcp.GITHUB_TOKEN'`.
    # Each reaches only that connector, as a Docker secret file exported at start.
    connector_secrets: dict[
        Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")],
        list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,127}$")]],
    ] = Field(default_factory=dict)

    gateway_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    gateway_workers: Annotated[int, Field(ge=1, le=64)] = 2  # GATEWAY_WORKERS per replica
    gateway_resources: Resources = Resources(memory="2g", cpus=2.0)
    # The single KG host daemon: pinned by node.labels.<label>==true, data volume there.
    kg_daemon_node_label: NodeLabel = "kg-daemon"
    kg_daemon_resources: Resources = Resources(memory="2g", cpus=1.0)
    # The kg-daemon's in-process kg-ingest consumer pool (KG_INGESTION_WORKERS): explicit,
    # not autosized by the node's cores and memory, so agent-os:data.kafka.partitions.kgTasks
    # can be checked to cover it plus the worker fleet (a consumer past the count gets none).
    kg_daemon_ingest_workers: Annotated[int, Field(ge=1, le=64)] = 1
    graph_os_replicas: Annotated[int, Field(ge=1, le=20)] = 1
    graph_os_resources: Resources = Resources(memory="1g", cpus=1.0)
    ingest_workers: WorkerFleet = WorkerFleet()
    dispatch_workers: WorkerFleet = WorkerFleet()
    # Off by default: agent-webui 0.43.0 (the era's release, images/agent-webui) cannot run
    # as the service the program declares (no console script; imports agent_utilities it does
    # not depend on; ignores HOST/PORT and OIDC_*; serves its SPA for /health). Enable it with
    # an image you verified (agent-os:images.overrides.agent-webui).
    webui: UiConfig = UiConfig(enabled=False)
    # Off by default: agent-terminal-ui 0.16.0 is a person's terminal client. Its AgentClient
    # sends no credentials (no token, no auth header) and --headless runs one --prompt and
    # exits, so as a service it only works with agent-os:app.kgAuthRequired false.
    terminal_ui: UiConfig = UiConfig(enabled=False, resources=Resources(memory="256m", cpus=0.25))
    autonomy: AutonomyConfig = AutonomyConfig()

    @field_validator("mcp_url_template")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{name}" not in v:
            raise ValueError("must contain {name} (the connector's service name)")
        try:
            url = v.format(name="x")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"only the {{name}} field is allowed ({e})") from None
        http_url(url)
        return v

    @field_validator("connector_secrets")
    @classmethod
    def _credential_names(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        # Exported at the connector's start: a name the program sets would shadow it.
        found: list[tuple[Loc, str]] = []
        for connector, names in v.items():
            for i, name in enumerate(names):
                if (why := connector_env_reason(name)) is not None:
                    found.append(((connector, i), f"{name} {why}"))
                elif name in names[:i]:
                    found.append(((connector, i), f"{name} is listed twice"))
        raise_all(found, v)
        return v
