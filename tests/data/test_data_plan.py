"""The data layer's declaration, purely (no mocks): names, pins and the bootstrap list."""

from __future__ import annotations

from components.config.data import DataConfig
from components.data.plan import data_plan
from tests.day0.conftest import config_of


def test_staging_has_one_pinned_broker_and_its_bootstrap() -> None:
    p = data_plan(config_of("staging").data, kafka=True)
    assert p.postgres.service == "pg-age" and p.postgres.constraints == ("node.labels.postgres==true",)
    assert [(b.service, b.constraints) for b in p.brokers] == [("kafka-1", ("node.labels.kafka-broker==1",))]
    assert p.kafka_bootstrap == "kafka-1:9092"
    assert p.kafka_init is not None and p.kafka_init.constraints == ()


def test_enterprise_brokers_follow_the_configured_count() -> None:
    p = data_plan(config_of("enterprise").data, kafka=True)
    assert p.kafka_bootstrap == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    assert all(b.pinned and b.replicas == 1 for b in p.brokers)


def test_kafka_off_plans_no_broker_and_no_bootstrap() -> None:
    p = data_plan(DataConfig(), kafka=False)
    assert p.brokers == () and p.kafka_init is None and p.kafka_bootstrap is None
    assert [x.service for x in p.placements] == ["pg-age"]


def test_the_postgres_pin_follows_its_node_label() -> None:
    p = data_plan(DataConfig.model_validate({"postgres": {"nodeLabel": "db"}}), kafka=False)
    assert p.postgres.constraints == ("node.labels.db==true",)
