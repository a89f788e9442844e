"""Data layer settings: Postgres + Apache AGE, Kafka (KRaft)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import ConfigModel, Loc, NodeLabel, PgRole, raise_all
from .resources import Resources

# The app's databases (owned by agent-os:data.postgres.appRole), named by the data layer
# (components/data). Restated here for the collision checks, since config imports no other
# project package; tests/config/test_config_declarations.py compares it with the program's.
APP_DATABASES = ("agent_kg", "agent_state")
# Databases every Postgres cluster has.
SYSTEM_DATABASES = ("postgres", "template0", "template1")


class PostgresConfig(ConfigModel):
    resources: Resources = Resources(memory="4g", cpus=2.0)
    superuser: PgRole = "postgres"
    # The app's own role: never the superuser (see StackConfig's rules).
    app_role: PgRole = "agent"
    port: Annotated[int, Field(ge=1, le=65535)] = 5432
    # Node label the data volume is pinned to (node.labels.<label>==true).
    node_label: NodeLabel = "postgres"

    @model_validator(mode="after")
    def _own_app_role(self) -> PostgresConfig:
        found: list[tuple[Loc, str]] = []
        if self.app_role == self.superuser:
            found.append(
                (
                    ("appRole",),
                    f"is the superuser ({self.superuser}); the app needs its own unprivileged role",
                )
            )
        raise_all(found, self.model_dump(by_alias=True))
        return self


class KafkaPartitions(ConfigModel):
    kg_tasks: Annotated[int, Field(ge=1, le=1024)] = 6
    kg_staging: Annotated[int, Field(ge=1, le=1024)] = 1
    agent_turns: Annotated[int, Field(ge=1, le=1024)] = 6


class KafkaConfig(ConfigModel):
    brokers: Annotated[int, Field(ge=1, le=9)] = 3
    resources: Resources = Resources(memory="2g", cpus=1.0)
    partitions: KafkaPartitions = KafkaPartitions()
    retention_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 168
    max_message_bytes: Annotated[int, Field(ge=1024, le=100 * 1024**2)] = 10 * 1024**2
    # Same on every broker; a KRaft cluster id is a base64 UUID (22 chars).
    cluster_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{22}$")] = "YWdlbnQtb3Mta2Fma2EtMQ"

    @property
    def replication_factor(self) -> int:
        return min(3, self.brokers)

    @property
    def min_insync_replicas(self) -> int:
        return 2 if self.brokers >= 3 else 1


class DataConfig(ConfigModel):
    postgres: PostgresConfig = PostgresConfig()
    kafka: KafkaConfig = KafkaConfig()
