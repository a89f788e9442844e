"""Day 0 as resources: bare hosts -> swarm (provision on), or a check of an existing swarm.

Provision on (pulumi-command `remote.Command`, SSH key = secret `agent-os:sshPrivateKey`):

    swarm-init (first manager)
      -> join-token-manager / join-token-worker   (stdout: secret outputs)
      -> swarm-join-<host>                        (managers one at a time: Raft; workers in parallel)
      -> node-labels-<host>                       (on the first manager, label_script)
      -> swarm-check                              (every host Ready, role + labels; bounded)
      -> docker provider (ssh://user@first-manager) -> everything else

Provision off: `swarm-labels-ready` (local) checks that the swarm at `swarm.dockerHost` has
Ready nodes carrying every label the placement plan needs, before the docker provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command

from ..config import NAMESPACE, StackConfig
from ..config.inventory import HostConfig, Role
from ..model import Placement
from .labels import label_script
from .plan import placement_markdown, placement_table
from .scripts import check_script, init_script, join_script, labels_ready_script, token_script

SSH_KEY = "sshPrivateKey"


def ssh_private_key(cfg: StackConfig) -> pulumi.Output[str] | None:
    """The configured SSH key (a secret) when provisioning; a config error if it is missing.
    Never generated: a made-up key cannot log in anywhere."""
    if not cfg.inventory.provision:
        return None
    key = pulumi.Config(NAMESPACE).get_secret(SSH_KEY)
    if key is None:
        raise pulumi.RunError(
            f"invalid stack config:\n  {NAMESPACE}:{SSH_KEY}: required when "
            f"{NAMESPACE}:inventory.provision is true; set it with "
            f"`pulumi config set --secret {NAMESPACE}:{SSH_KEY} < ~/.ssh/id_ed25519`"
        )
    return pulumi.Output.secret(key)


def docker_host_of(cfg: StackConfig) -> str:
    inv = cfg.inventory
    if inv.provision:
        m = inv.leader
        return f"ssh://{m.ssh_user}@{m.address}:{m.port}"
    return cfg.swarm.docker_host


@dataclass(frozen=True)
class Day0Outputs:
    docker_host: str  # what the docker provider dials
    ready: pulumi.Resource  # the docker provider is created after this
    node_ids: dict[str, pulumi.Output[str]]  # host name -> swarm node ID (provision on)
    placement: dict[str, Any]  # JSON-ready host -> services / service -> placement
    placement_markdown: str


class Day0(pulumi.ComponentResource):
    init: command.remote.Command | None = None
    tokens: dict[Role, command.remote.Command]
    joins: dict[str, command.remote.Command]
    labels: dict[str, command.remote.Command]
    check: command.remote.Command | command.local.Command

    def __init__(
        self,
        cfg: StackConfig,
        placements: Sequence[Placement],
        ssh_key: pulumi.Output[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`placements`: every service of the stack plan (components/plan.py)."""
        super().__init__("agent-os:day0:Day0", "day0", None, opts)
        self.tokens, self.joins, self.labels = {}, {}, {}
        node_ids: dict[str, pulumi.Output[str]] = {}
        if cfg.inventory.provision:
            assert ssh_key is not None
            node_ids = self._provision(cfg, ssh_key)
        else:
            self.check = command.local.Command(
                "swarm-labels-ready",
                create=labels_ready_script(placements),
                interpreter=["/bin/sh", "-c"],
                environment={"DOCKER_HOST": cfg.swarm.docker_host},
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.outputs = Day0Outputs(
            docker_host=docker_host_of(cfg),
            ready=self.check,
            node_ids=node_ids,
            placement=placement_table(placements, cfg.inventory.hosts),
            placement_markdown=placement_markdown(placements, cfg.inventory.hosts),
        )
        self.register_outputs({"dockerHost": self.outputs.docker_host, "nodeIds": node_ids})

    def _ssh(
        self,
        name: str,
        host: HostConfig,
        key: pulumi.Output[str],
        create: pulumi.Input[str],
        secret_stdout: bool = False,
        **kw: Any,
    ) -> command.remote.Command:
        opts = pulumi.ResourceOptions(
            parent=self,
            depends_on=kw.pop("depends_on", None),
            additional_secret_outputs=["stdout"] if secret_stdout else None,
            delete_before_replace=kw.pop("delete_before_replace", None),
        )
        return command.remote.Command(
            name,
            connection=command.remote.ConnectionArgs(
                host=host.address, port=host.port, user=host.ssh_user, private_key=key
            ),
            create=create,
            logging=command.remote.Logging.STDERR if secret_stdout else None,
            opts=opts,
            **kw,
        )

    def _provision(self, cfg: StackConfig, key: pulumi.Output[str]) -> dict[str, pulumi.Output[str]]:
        inv = cfg.inventory
        leader = inv.leader
        self.init = self._ssh("swarm-init", leader, key, init_script(leader))
        node_ids: dict[str, pulumi.Output[str]] = {leader.name: self.init.stdout.apply(str.strip)}
        for role in Role:
            self.tokens[role] = self._ssh(
                f"join-token-{role.value}",
                leader,
                key,
                token_script(role),
                secret_stdout=True,
                depends_on=[self.init],
            )
        # Raft membership changes one manager at a time; workers join in parallel.
        previous_manager: pulumi.Resource = self.init
        for h in inv.hosts:
            if h is leader:
                continue
            join = self._ssh(
                f"swarm-join-{h.name}",
                h,
                key,
                join_script(h, leader),
                stdin=pulumi.Output.secret(self.tokens[h.role].stdout.apply(lambda s: s.strip() + "\n")),
                depends_on=[previous_manager] if h.role is Role.MANAGER else None,
            )
            if h.role is Role.MANAGER:
                previous_manager = join
            self.joins[h.name] = join
            node_ids[h.name] = join.stdout.apply(str.strip)
        for h in inv.hosts:
            node = node_ids[h.name]
            self.labels[h.name] = self._ssh(
                f"node-labels-{h.name}",
                leader,
                key,
                node.apply(lambda n, h=h: label_script(h, n)),
                # A host leaving the inventory loses the labels day 0 gave it.
                delete=node.apply(lambda n: label_script({}, n)),
                delete_before_replace=True,
            )
        ids = pulumi.Output.all(**node_ids)
        self.check = self._ssh(
            "swarm-check",
            leader,
            key,
            ids.apply(lambda n: check_script(n, inv.hosts, inv.check_retries, inv.check_interval_seconds)),
            depends_on=list(self.labels.values()),
        )
        return node_ids
