"""agent-os: the agent-utilities "Enterprise (swarm)" recipe as one stack graph.

The recipe's bootstrap, in order. Each layer takes only the typed outputs of the layers
below it; Pulumi runs everything the data edges leave unordered in parallel.
"""

import pulumi

from components import config
from components.core import CoreLayer
from components.data import DataLayer
from components.day0 import Topology
from components.day0.inventory import check_inventory
from components.edge import EdgeLayer
from components.fleet import FleetLayer, connector_identities, fleet_telemetry
from components.foundation import foundation
from components.routes import all_routes
from components.runtime import tune_gc
from shards.deploy import ShardsLayer

tune_gc()  # the evaluation keeps every resource alive: collect garbage less often

# 0. Typed stack config: bad config stops here, before any resource is registered.
cfg = config.load(check_inventory)  # day 0's rule too: the inventory can run the placement plan
# The connector fleet from the registry (GitOps must never run it a second time).
connectors = connector_identities(cfg)

# 1-4. Day 0 (provision the swarm from the inventory over SSH, or check the existing one),
# then providers, secrets, encrypted overlay networks per layer.
base = foundation(cfg)

# 5. Edge: Technitium DNS and Caddy, with every route the layers above register.
edge = EdgeLayer(base.platform, base.secrets, all_routes(cfg), base.opts)

# Data: Postgres + AGE (databases, roles, extensions, graph) and Kafka with topics.
data = DataLayer(base.platform, base.secrets, base.opts)

# Engine shards (refuses an unacknowledged re-shard at preview; exports shardEndpoints etc.).
shards = ShardsLayer(base.platform, base.secrets, base.opts)

# Core: OpenBao, Keycloak, Portainer, LGTM (scraping the shards' telemetry), wired together.
core = CoreLayer(
    base.platform,
    base.secrets,
    edge.outputs,
    data.outputs,
    [shards.outputs.telemetry, fleet_telemetry(cfg)],
    base.opts,
    connectors=connectors,
)

# agent-utilities tier, MCP connector fleet, UIs: config.json rendered from all of the above.
fleet = FleetLayer(base.platform, base.secrets, data.outputs, core.outputs, shards.outputs, base.opts)

# 9. The topology manifest for graph-os (posted when agent-os:inventory.topology.post).
endpoints = {"urls": edge.outputs.urls, "kafkaBootstrap": data.outputs.kafka_bootstrap}
after = [edge, data, shards, core, fleet]  # every layer: the manifest describes what is up
topology = Topology(
    cfg, base.platform.networks, endpoints, after, core.outputs.openbao, core.outputs.keycloak, base.opts
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
if cfg.integrations.keycloak:  # the realm's first person; the password stays a Pulumi secret
    admin = {
        "username": cfg.core.keycloak.platform_admin,
        "password": base.secrets.value("platformAdminPassword"),
    }
    pulumi.export("platformAdmin", admin)
