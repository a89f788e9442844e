#!/bin/sh
# agent-os test image: our own POSIX port of Kafka 4.1's bin/kafka-server-start.sh (same
# defaults: KAFKA_LOG4J_OPTS -> config/log4j2.yaml, KAFKA_HEAP_OPTS "-Xmx1G -Xms1G",
# EXTRA_ARGS "-name kafkaServer -loggc"; -daemon as the first argument).
set -eu
if [ $# -lt 1 ]; then
    echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
    exit 1
fi
base_dir=$(dirname -- "$0")
if [ -z "${KAFKA_LOG4J_OPTS:-}" ]; then
    export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml"
fi
if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
    export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi
extra=${EXTRA_ARGS--name kafkaServer -loggc}
if [ "$1" = -daemon ]; then
    extra="-daemon $extra"
    shift
fi
# shellcheck disable=SC2086 # EXTRA_ARGS is a word list, as upstream
exec "$base_dir/kafka-run-class.sh" $extra kafka.Kafka "$@"
