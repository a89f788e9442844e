"""The data layer, declared (pure): Postgres + AGE pinned by its label, one pinned service per
Kafka broker (stable name, advertised listener), and the topic reconciler."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.data import DataConfig
from ..config.swarm import Layer
from ..model import Placement, on_label

POSTGRES_SERVICE = "pg-age"
KG_DB = "agent_kg"
STATE_DB = "agent_state"
GRAPH = "agent_graph"
KAFKA_BROKER_LABEL = "kafka-broker"  # value: the broker's number
CLIENT_PORT = 9092
CONTROLLER_PORT = 9093


def broker_name(n: int) -> str:
    return f"kafka-{n}"


@dataclass(frozen=True)
class DataPlan:
    postgres: Placement
    postgres_port: int
    brokers: tuple[Placement, ...]  # empty with Kafka off
    kafka_init: Placement | None

    @property
    def placements(self) -> tuple[Placement, ...]:
        init = (self.kafka_init,) if self.kafka_init else ()
        return (self.postgres, *self.brokers, *init)

    @property
    def kafka_bootstrap(self) -> str | None:
        if not self.brokers:
            return None
        return ",".join(b.at(CLIENT_PORT) for b in self.brokers)


def data_plan(data: DataConfig, kafka: bool) -> DataPlan:
    pg = data.postgres
    brokers = tuple(
        Placement(broker_name(n), Layer.DATA, (on_label(KAFKA_BROKER_LABEL, str(n)),), pinned=True)
        for n in range(1, data.kafka.brokers + 1)
    )
    return DataPlan(
        postgres=Placement(POSTGRES_SERVICE, Layer.DATA, (on_label(pg.node_label),), pinned=True),
        postgres_port=pg.port,
        brokers=brokers if kafka else (),
        kafka_init=Placement("kafka-init", Layer.DATA) if kafka else None,
    )
