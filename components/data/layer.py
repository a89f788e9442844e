"""Data layer: Postgres with Apache AGE, and Kafka (KRaft)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_postgresql as postgresql

from ..config.data import DataConfig
from ..swarm import Platform
from ..swarm.context import DataPlatform
from ..swarm.secretvalues import StackSecrets
from .kafka import broker, kafka_init, topics
from .plan import GRAPH, KG_DB, STATE_DB, DataPlan
from .postgres import (
    AppDatabases,
    admin_tunnel,
    app_databases,
    postgres_admin,
    postgres_service,
)


@dataclass(frozen=True)
class DataOutputs:
    """What upper layers may use. DSN passwords stay secret Outputs."""

    postgres_host: str
    postgres_port: int
    app_role: str
    app_password: pulumi.Output[str]
    kg_database: str
    state_database: str
    graph: str
    postgres_provider: postgresql.Provider
    databases: AppDatabases
    kafka_bootstrap: str | None
    kafka_ready: docker.Service | None  # the topic reconciler; healthy once topics exist
    topics: list[str]
    topic_partitions: dict[str, int]  # topic -> partitions kafka-init ensures


class DataLayer(pulumi.ComponentResource):
    def __init__(
        self,
        shared: Platform,
        config: DataConfig,
        secrets: StackSecrets,
        plan: DataPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("agent-os:data:Data", "data", None, opts)
        platform = DataPlatform.on(shared, config)
        su_password = secrets.value("postgresPassword")
        app_password = secrets.value("agentDbPassword")
        self.postgres = postgres_service(platform, plan.postgres, su_password, self)
        gate_after: list[pulumi.Resource] = [self.postgres]
        self.tunnel: docker.Container | None = None
        if platform.access.admin_tunnel:
            self.tunnel = admin_tunnel(platform, plan.postgres, self)
            gate_after.append(self.tunnel)
        self.admin = postgres_admin(platform, plan.postgres, su_password, gate_after, self)
        self.databases = app_databases(platform, self.admin, app_password, su_password, self)

        self.brokers: list[docker.Service] = []
        self.kafka_init: docker.Service | None = None
        if plan.kafka_init and plan.kafka_bootstrap:
            self.brokers = [broker(platform, p, n, self) for n, p in enumerate(plan.brokers, start=1)]
            self.kafka_init = kafka_init(platform, plan.kafka_init, plan.kafka_bootstrap, self.brokers, self)

        k = platform.data.kafka
        self.outputs = DataOutputs(
            postgres_host=self.admin.host,
            postgres_port=self.admin.port,
            app_role=platform.data.postgres.app_role,
            app_password=app_password,
            kg_database=KG_DB,
            state_database=STATE_DB,
            graph=GRAPH,
            postgres_provider=self.admin.provider,
            databases=self.databases,
            kafka_bootstrap=plan.kafka_bootstrap,
            kafka_ready=self.kafka_init,
            topics=[t.name for t in topics(k)] if plan.brokers else [],
            topic_partitions={t.name: t.partitions for t in topics(k)} if plan.brokers else {},
        )
        self.register_outputs(
            {
                "postgres": f"{self.admin.host}:{self.admin.port}",
                "kafkaBootstrap": self.outputs.kafka_bootstrap,
            }
        )
