"""Kafka in KRaft mode: one service per broker (stable name, advertised listener), and an
in-cluster topic reconciler that pre-creates topics with RF min(3, brokers)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config.data import KafkaConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import (
    ConfigFile,
    HealthCheck,
    ServiceSpec,
    TmpfsMount,
    VolumeMount,
    swarm_service,
)
from ..swarm.context import DataPlatform
from .plan import CLIENT_PORT, CONTROLLER_PORT, broker_name

BIN = "/opt/kafka/bin"
TOPICS_FILE = "/etc/agent-os/topics.txt"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    config: tuple[tuple[str, str], ...] = ()


def topics(k: KafkaConfig) -> list[Topic]:
    day = 24 * 3600 * 1000
    return [
        Topic("kg_tasks", k.partitions.kg_tasks, (("retention.ms", str(3 * day)),)),
        Topic("kg_staging", k.partitions.kg_staging, (("retention.ms", str(day)),)),
        Topic("agent_turns", k.partitions.agent_turns),
    ]


def broker_env(k: KafkaConfig, n: int) -> dict[str, str]:
    """apache/kafka: passing any KAFKA_* disables every default, so this is the full set."""
    voters = ",".join(f"{i}@{broker_name(i)}:{CONTROLLER_PORT}" for i in range(1, k.brokers + 1))
    rf = str(k.replication_factor)
    return {
        "CLUSTER_ID": k.cluster_id,
        "KAFKA_NODE_ID": str(n),
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://:{CLIENT_PORT},CONTROLLER://:{CONTROLLER_PORT}",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{broker_name(n)}:{CLIENT_PORT}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": rf,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": rf,
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": rf,
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(k.min_insync_replicas),
        "KAFKA_MIN_INSYNC_REPLICAS": str(k.min_insync_replicas),
        "KAFKA_LOG_RETENTION_HOURS": str(k.retention_hours),
        "KAFKA_MESSAGE_MAX_BYTES": str(k.max_message_bytes),
        "KAFKA_REPLICA_FETCH_MAX_BYTES": str(k.max_message_bytes),
        # The start script's default heap is 1 GiB, the whole of a small limit: half of it.
        "KAFKA_HEAP_OPTS": f"-Xmx{heap_mb(k)}m -Xms{heap_mb(k)}m",
    }


def heap_mb(k: KafkaConfig) -> int:
    return max(256, k.resources.memory_bytes // 2 // 1024**2)


def broker(platform: DataPlatform, placement: Placement, n: int, parent: pulumi.Resource) -> docker.Service:
    k = platform.data.kafka
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("kafka"),
        env=broker_env(k, n),
        volumes=(VolumeMount(source=f"{platform.namespace}-kafka-{n}-data", target="/var/lib/kafka/data"),),
        resources=k.resources,
        networks=(Layer.DATA,),
        stateful=True,
        user="1000:1000",
        stop_grace_period="120s",
        # Swarm adds a task to DNS only once it is healthy, and the voters are the brokers'
        # service names: a check that needs the quorum would never pass. The controller
        # listener accepts before the quorum forms; kafka-init waits for the brokers.
        health=HealthCheck.tcp(
            CONTROLLER_PORT, interval="15s", timeout="10s", retries=10, start_period="60s"
        ),
    )
    return swarm_service(platform, spec, parent)


def topics_file(k: KafkaConfig) -> str:
    """One topic per line: `name partitions rf key=value,...` (read by the init script)."""
    rf = k.replication_factor
    return "".join(
        f"{t.name} {t.partitions} {rf} {','.join(f'{a}={b}' for a, b in t.config) or '-'}\n"
        for t in topics(k)
    )


def init_script(bs: str) -> str:
    """Create topics --if-not-exists, grow partitions (never shrink), then stay healthy."""
    return (
        "set -eu\n"
        "ok=0\n"
        "for i in $(seq 1 60); do\n"
        f"  if {BIN}/kafka-topics.sh --bootstrap-server {bs} --list >/dev/null 2>&1; then ok=1; break; fi\n"
        "  sleep 5\n"
        "done\n"
        '[ "$ok" = 1 ] || { echo "kafka-init: brokers not reachable" >&2; exit 1; }\n'
        f"while read -r name parts rf conf; do\n"
        '  extra=""\n'
        '  if [ "$conf" != "-" ]; then for kv in $(echo "$conf" | tr "," " "); do extra="$extra --config $kv"; done; fi\n'
        f'  {BIN}/kafka-topics.sh --bootstrap-server {bs} --create --if-not-exists --topic "$name" '
        '--partitions "$parts" --replication-factor "$rf" $extra\n'
        f'  cur=$({BIN}/kafka-topics.sh --bootstrap-server {bs} --describe --topic "$name" '
        "| sed -n 's/.*PartitionCount: *\\([0-9]*\\).*/\\1/p' | head -n1)\n"
        '  if [ -n "$cur" ] && [ "$cur" -lt "$parts" ]; then\n'
        f'    {BIN}/kafka-topics.sh --bootstrap-server {bs} --alter --topic "$name" --partitions "$parts"\n'
        "  fi\n"
        f"done < {TOPICS_FILE}\n"
        "touch /tmp/topics-ready\n"
        "exec sleep 2147483647\n"
    )


def kafka_init(
    platform: DataPlatform,
    placement: Placement,
    bootstrap: str,
    after: list[docker.Service],
    parent: pulumi.Resource,
) -> docker.Service:
    k = platform.data.kafka
    topics_cfg = platform.config_file("kafka-topics", topics_file(k), parent)
    script_cfg = platform.config_file("kafka-init-script", init_script(bootstrap), parent)
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("kafka"),
        command=("/bin/sh", "/etc/agent-os/kafka-init.sh"),
        configs=(
            ConfigFile(config=topics_cfg, target=TOPICS_FILE),
            ConfigFile(config=script_cfg, target="/etc/agent-os/kafka-init.sh", mode=0o555),
        ),
        resources=k.resources.model_copy(update={"memory": "512m", "cpus": 0.5}),
        networks=(Layer.DATA,),
        user="1000:1000",
        read_only=True,
        tmpfs=(TmpfsMount(target="/tmp", size_bytes=16 * 1024**2),),
        health=HealthCheck.shell("test -f /tmp/topics-ready", interval="10s", retries=30, start_period="30s"),
        depends_on=tuple(after),
    )
    return swarm_service(platform, spec, parent)
