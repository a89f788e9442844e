"""Apache Kafka 4.1.0 (KRaft) from its Maven Central jars on Debian trixie's OpenJDK 21, laid
out as the official image: /opt/kafka/{bin,config,libs}, user appuser 1000:1000, CMD
/etc/kafka/docker/run. Stands in for docker.io/apache/kafka:4.1.0 (the program's pin).

Maven Central serves the jars but not the distribution's scripts, so bin/ holds our own thin
POSIX ports (kafka-run-class.sh, kafka-server-start.sh, and one-line tool scripts for the
main classes below), and /etc/kafka/docker/run is our port of the image's run/configure/launch
around Kafka's own env-to-config converter, kafka.docker.KafkaDockerWrapper. The jar list is
files/kafka-jars.lock (Maven-resolved, sha256 per jar); the build fetches each jar from Maven
Central with apt-helper, which refuses a file whose sha256 differs (checked again with
sha256sum). TLS peer verification is off for that fetch: a build host's egress proxy may
re-sign TLS with a CA the image must not carry (see rootfs.install_lock), and the sha256 pins,
not the connection, are what vouch for each jar.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe

VERSION = "4.1.0"
MAVEN = "https://repo.maven.apache.org/maven2"
FILES = HERE / "files"
JARS_LOCK = "/tmp/kafka-jars.lock"  # build-only: /tmp is emptied by the cleanup step

# bin/<script>.sh -> main class, each `exec kafka-run-class.sh <class> "$@"` as upstream.
TOOLS: dict[str, str] = {
    "kafka-storage": "kafka.tools.StorageTool",
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-cluster": "org.apache.kafka.tools.ClusterTool",
}
TOOL_SCRIPT = '#!/bin/sh\\nexec "$(dirname -- "$0")/kafka-run-class.sh" %s "$@"\\n'

AFTER = (
    f"""\
mkdir -p /opt/kafka/libs /opt/kafka/config /opt/kafka/logs /var/lib/kafka/data /etc/kafka/secrets /usr/logs \\
    /mnt/shared/config /tmp/jars
chown _apt /tmp/jars
grep -v '^#' {JARS_LOCK} | while read -r sha path; do
    /usr/lib/apt/apt-helper -o Acquire::https::Verify-Peer=false -o Acquire::https::Verify-Host=false \
        download-file "{MAVEN}/$path" "/tmp/jars/${{path##*/}}" "SHA256:$sha"
done
sed -n 's#^\\([0-9a-f]\\{{64\\}}\\)  .*/\\([^/]*\\)$#\\1  /tmp/jars/\\2#p' {JARS_LOCK} | sha256sum -c --quiet
want=$(grep -c '^[0-9a-f]' {JARS_LOCK})
got=$(ls /tmp/jars | wc -l)
[ "$got" = "$want" ] || {{ echo "kafka jars: $got files, the lock has $want" >&2; exit 1; }}
mv /tmp/jars/*.jar /opt/kafka/libs/
"""
    + "".join(f"printf '{TOOL_SCRIPT}' {cls} > /opt/kafka/bin/{name}.sh\n" for name, cls in TOOLS.items())
    + """\
chmod 755 /opt/kafka/bin/*.sh
cp /etc/kafka/docker/server.properties /etc/kafka/docker/log4j2.yaml \\
    /etc/kafka/docker/tools-log4j2.yaml /opt/kafka/config/
chown -R 1000:1000 /usr/logs /opt/kafka /mnt/shared/config
chown -R 1000:0 /var/lib/kafka /etc/kafka
chmod -R ug+w /etc/kafka /var/lib/kafka
"""
)

RECIPE = Recipe(
    name="kafka",
    alias=f"agent-os-test/kafka:{VERSION}",
    source=Path(__file__),
    before="""\
groupadd --gid 1000 appuser
useradd --uid 1000 --gid 1000 --home-dir /home/appuser --create-home --shell /bin/bash appuser
""",
    packages=("openjdk-21-jre-headless", "ca-certificates", "procps"),
    files=(
        CopyFile(FILES / "kafka-jars.lock", JARS_LOCK),
        CopyFile(FILES / "kafka-run-class.sh", "/opt/kafka/bin/kafka-run-class.sh", 0o755),
        CopyFile(FILES / "kafka-server-start.sh", "/opt/kafka/bin/kafka-server-start.sh", 0o755),
        CopyFile(FILES / "kafka-docker-run.sh", "/etc/kafka/docker/run", 0o755),
        CopyFile(FILES / "kafka-server.properties", "/etc/kafka/docker/server.properties"),
        CopyFile(FILES / "kafka-log4j2.yaml", "/etc/kafka/docker/log4j2.yaml"),
        CopyFile(FILES / "kafka-tools-log4j2.yaml", "/etc/kafka/docker/tools-log4j2.yaml"),
    ),
    after=AFTER,
    config=ImageConfig(
        cmd=("/etc/kafka/docker/run",),
        env={"LANG": "C.UTF-8"},
        user="appuser",
        expose=("9092",),
        volumes=("/etc/kafka/secrets", "/var/lib/kafka/data", "/mnt/shared/config"),
    ),
    report=("openjdk-21-jre-headless",),
)
