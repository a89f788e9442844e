"""The root of the stack-config tree: everything under the `agent-os:` namespace."""

from __future__ import annotations

from pydantic import Field

from .access import AccessConfig, Trust
from .app import AppConfig, QueueBackend
from .base import ConfigModel
from .core import CoreConfig
from .data import DataConfig
from .edge import EdgeConfig
from .fleet import Actuator, FleetConfig
from .images import ImagesConfig
from .integrations import Integrations
from .inventory import InventoryConfig
from .shards import CapacityConfig, ShardsConfig, Sizing, resolve_sizing, shards_problem
from .swarm import SwarmConfig


class ConfigError(Exception):
    """A config problem at a key path; turned into a pulumi.RunError by the loader."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StackConfig(ConfigModel):
    swarm: SwarmConfig = SwarmConfig()
    images: ImagesConfig = ImagesConfig()
    integrations: Integrations = Integrations()
    edge: EdgeConfig = EdgeConfig()
    data: DataConfig = DataConfig()
    access: AccessConfig = AccessConfig()
    app: AppConfig = AppConfig()
    shards: ShardsConfig = ShardsConfig()
    capacity: CapacityConfig = CapacityConfig()
    fleet: FleetConfig = FleetConfig()
    core: CoreConfig = CoreConfig()
    inventory: InventoryConfig = InventoryConfig()
    # Set by the loader from the Pulumi stack name; not a config key.
    stack: str = Field(default="dev", exclude=True)

    @property
    def trust(self) -> Trust:
        """The root the admin clients verify TLS against: agent-os:access.caFile, else the
        stack's own Caddy root, written by the edge layer (project-relative path)."""
        a = self.access
        return Trust(insecure=a.insecure_tls, ca_file=a.ca_file or self.stack_root_file)

    @property
    def stack_root_file(self) -> str:
        """Where the edge layer writes the stack's Caddy root certificate (public)."""
        return f".agent-os/{self.stack}/caddy-root.pem"

    def sizing(self) -> Sizing:
        """Shard count, workers, Kafka partitions: explicit config wins over agent-os:capacity."""
        return resolve_sizing(self.shards, self.capacity)

    def check_consistency(self) -> None:
        """Cross-section rules; each names the key that has to change."""
        if (problem := shards_problem(self.shards, self.capacity)) is not None:
            raise ConfigError(*problem)
        self._check_day0()
        i = self.integrations
        if self.app.task_queue_backend is QueueBackend.KAFKA and not i.kafka:
            raise ConfigError(
                "agent-os:app.taskQueueBackend",
                "is 'kafka' but agent-os:integrations.kafka is false; turn kafka on or choose 'postgres'",
            )
        if not i.keycloak and not i.allow_unauthenticated:
            raise ConfigError(
                "agent-os:integrations.keycloak",
                "is false, which leaves the REST/MCP APIs and the connectors unauthenticated; "
                "set agent-os:integrations.allowUnauthenticated: true to accept that",
            )
        if i.gitops and not i.portainer:
            raise ConfigError(
                "agent-os:integrations.gitops",
                "needs agent-os:integrations.portainer (GitOps stacks live in Portainer)",
            )
        if i.gitops and not self.core.portainer.gitops.repo_url:
            raise ConfigError(
                "agent-os:core.portainer.gitops.repoUrl",
                "is required when agent-os:integrations.gitops is true (your repository of stack files)",
            )
        self._check_fleet()
        bao = self.core.openbao
        if bao.members % 2 == 0:
            raise ConfigError(
                "agent-os:core.openbao.members",
                f"is {bao.members}; a raft cluster needs an odd member count (1, 3, 5, 7)",
            )
        if bao.recovery_threshold > bao.recovery_shares:
            raise ConfigError(
                "agent-os:core.openbao.recoveryThreshold",
                "exceeds agent-os:core.openbao.recoveryShares",
            )

    def external_secrets(self) -> list[tuple[str, str]]:
        """Secret keys the enabled features need from outside (never generated): (key, why)."""
        out: list[tuple[str, str]] = []
        if self.integrations.langfuse:
            why = "when agent-os:integrations.langfuse is true (keys of your Langfuse project)"
            out += [("langfusePublicKey", why), ("langfuseSecretKey", why)]
        return out

    def _check_day0(self) -> None:
        """Inventory vs. swarm/integrations. The inventory vs. the placement plan is day 0's
        check (components/day0/inventory.py), which __main__ hands to config.load()."""
        inv = self.inventory
        if inv.provision and "docker_host" in self.swarm.model_fields_set:
            raise ConfigError(
                "agent-os:swarm.dockerHost",
                "is derived from the first manager when agent-os:inventory.provision is true; remove it",
            )
        topo = inv.topology
        if topo.post and not topo.url:
            raise ConfigError("agent-os:inventory.topology.url", "is required when topology.post is true")
        if topo.post and not (self.integrations.openbao and self.integrations.keycloak):
            raise ConfigError(
                "agent-os:inventory.topology.post",
                "signs in to graph-os with a Keycloak token whose client secret it reads from OpenBao; "
                "turn on agent-os:integrations.openbao and agent-os:integrations.keycloak",
            )

    def _check_fleet(self) -> None:
        """agent-utilities tier rules (components/fleet)."""
        if self.integrations.langfuse and not self.app.langfuse_host:
            raise ConfigError(
                "agent-os:app.langfuseHost",
                "is required when agent-os:integrations.langfuse is true (Langfuse runs outside this stack)",
            )
        if self.app.task_queue_backend is QueueBackend.POSTGRES and not self.app.state_db:
            raise ConfigError(
                "agent-os:app.stateDb", "is false but agent-os:app.taskQueueBackend 'postgres' needs it"
            )
        if self.fleet.webui.enabled and "agent-webui" not in self.images.overrides:
            raise ConfigError(
                "agent-os:fleet.webui.enabled",
                "agent-webui 0.43.0 (the default image) cannot run as this service: no console "
                "script, an undeclared agent_utilities import, HOST/PORT and OIDC_* ignored; set "
                "agent-os:images.overrides.agent-webui to an image you verified",
            )
        if self.fleet.terminal_ui.enabled and self.app.kg_auth_required:
            raise ConfigError(
                "agent-os:fleet.terminalUi.enabled",
                "agent-terminal-ui 0.16.0 sends no credentials, so with agent-os:app.kgAuthRequired "
                "every call is refused (401); run it on a workstation against the gateway instead",
            )
        auto = self.fleet.autonomy
        if auto.actuator is Actuator.DOCKER and not auto.docker_socket:
            raise ConfigError(
                "agent-os:fleet.autonomy.dockerSocket",
                "is required for actuator 'docker' (the KG daemon's node must have the Docker socket)",
            )
