"""agent-os: the agent-utilities "Enterprise (swarm)" recipe as one stack graph.

The recipe's bootstrap, in order. Each layer takes its own plan and only the typed outputs
of the layers below it; Pulumi runs everything the data edges leave unordered in parallel.
"""

import pulumi

from components import config
from components.config.loader import load
from components.core.layer import CoreLayer
from components.data.layer import DataLayer
from components.edge.layer import EdgeLayer
from components.fleet.layer import FleetLayer
from components.foundation import foundation
from components.plan import check, stack_plan
from components.runtime import tune_gc
from components.topology import Topology
from shards.deploy import ShardsLayer

tune_gc()  # the evaluation keeps every resource alive: collect garbage less often

# 0. Typed stack config, then the stack plan (every layer's services, placements, routes;
# the connector registry) and the checks on it: bad config stops here, before any resource.
cfg = load()
try:
    plan = stack_plan(cfg)
    check(cfg, plan)  # the inventory can run the placement plan
except config.ConfigError as e:
    raise pulumi.RunError(f"invalid stack config:\n  {e}") from None

# 1-4. Day 0 (provision the swarm from the inventory over SSH, or check the existing one
# carries the placements' labels), then providers, secrets, encrypted overlay networks.
base = foundation(cfg, plan.placements)

# 5. Edge: Technitium DNS and Caddy, with every route the layers above register.
edge = EdgeLayer(base.platform, base.secrets, plan.edge, list(plan.routes), base.opts)

# Data: Postgres + AGE (databases, roles, extensions, graph) and Kafka with topics.
data = DataLayer(base.platform, cfg.data, base.secrets, plan.data, base.opts)

# Engine shards (refuses an unacknowledged re-shard at preview; exports shardEndpoints etc.).
shards = ShardsLayer(base.platform, cfg.shards, base.secrets, plan.shards, base.opts)

# Core: OpenBao, Keycloak, Portainer, LGTM (scraping what the layers declare), wired together.
core = CoreLayer(
    base.platform,
    cfg.core,
    cfg.integrations,
    base.secrets,
    plan.core,
    edge.outputs,
    data.outputs,
    plan.telemetry,
    base.opts,
    connectors=plan.fleet.connectors.identities,  # GitOps must never run them a second time
)

# agent-utilities tier, MCP connector fleet, UIs: config.json rendered from all of the above.
fleet = FleetLayer(
    base.platform, cfg, base.secrets, plan.fleet, data.outputs, core.outputs, shards.outputs, base.opts
)

# 9. The topology manifest for graph-os (posted when agent-os:inventory.topology.post).
endpoints = {"urls": edge.outputs.urls, "kafkaBootstrap": data.outputs.kafka_bootstrap}
after = [edge, data, shards, core, fleet]  # every layer: the manifest describes what is up
topology = Topology(
    cfg,
    plan.placements,
    base.platform.networks,
    endpoints,
    after,
    core.outputs.openbao,
    core.outputs.keycloak,
    base.opts,
)

pulumi.export("placement", base.day0.outputs.placement)
pulumi.export("placementMarkdown", base.day0.outputs.placement_markdown)
pulumi.export("topology", topology.manifest)
pulumi.export("zone", edge.outputs.zone)
pulumi.export("urls", edge.outputs.urls)
pulumi.export("postgres", f"{data.outputs.postgres_host}:{data.outputs.postgres_port}")
pulumi.export("kafkaBootstrap", data.outputs.kafka_bootstrap)
pulumi.export("kafkaTopics", data.outputs.topics)
pulumi.export("geniusbot", fleet.outputs.geniusbot)
for name, value in shards.outputs.stack_outputs().items():  # the re-shard guard's memory
    pulumi.export(name, value)
if core.outputs.openbao:  # the operator's way in (secrets): the admin login, recovery keys
    pulumi.export("openbaoAdminLogin", core.outputs.openbao.admin_login)
    pulumi.export("openbaoRecoveryKeys", core.outputs.openbao.recovery_keys)
if cfg.integrations.keycloak:  # the realm's first person; the password stays a Pulumi secret
    admin = {
        "username": cfg.core.keycloak.platform_admin,
        "password": base.secrets.value("platformAdminPassword"),
    }
    pulumi.export("platformAdmin", admin)
