"""agent-os: the agent-utilities "Enterprise (swarm)" recipe as one stack graph.

The recipe's bootstrap, in order. Each layer takes only the typed outputs of the layers
below it; Pulumi runs everything the data edges leave unordered in parallel.
"""

import pulumi

from components import config
from components.data import DataLayer
from components.edge import EdgeLayer
from components.foundation import foundation
from components.routes import all_routes

# 0. Typed stack config: bad config stops here, before any resource is registered.
cfg = config.load()

# 1-4. Providers, secrets, encrypted overlay networks per layer.
base = foundation(cfg)

# 5. Edge: Technitium DNS and Caddy, with every route the layers above register.
edge = EdgeLayer(base.platform, base.secrets, all_routes(cfg), base.opts)

# Data: Postgres + AGE (databases, roles, extensions, graph) and Kafka with topics.
data = DataLayer(base.platform, base.secrets, base.opts)

pulumi.export("zone", edge.outputs.zone)
pulumi.export("urls", edge.outputs.urls)
pulumi.export("postgres", f"{data.outputs.postgres_host}:{data.outputs.postgres_port}")
pulumi.export("kafkaBootstrap", data.outputs.kafka_bootstrap)
pulumi.export("kafkaTopics", data.outputs.topics)
