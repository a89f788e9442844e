#!/bin/sh
# agent-os test image: our own POSIX port of apache/kafka's /etc/kafka/docker/run (with its
# configureDefaults, configure and launch), keeping the official image's env contract:
#   * any KAFKA_FOO_BAR=v becomes foo.bar=v in /opt/kafka/config/server.properties ('_' -> '.',
#     '__' -> '_', '___' -> '-'), except KAFKA_VERSION, KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS,
#     KAFKA_OPTS, KAFKA_JMX_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS,
#     KAFKA_LOG4J_ROOT_LOGLEVEL, KAFKA_LOG4J_LOGGERS, KAFKA_TOOLS_LOG4J_LOGLEVEL, KAFKA_JMX_HOSTNAME;
#     with no KAFKA_* at all, /etc/kafka/docker/server.properties is used; a server.properties
#     in /mnt/shared/config gets the env properties appended. This is Kafka's own converter,
#     kafka.docker.KafkaDockerWrapper (kafka_2.13), which also formats the log dirs with
#     CLUSTER_ID (default 5L6g3nShT-eMCtK--X86sw); "already formatted" is not an error.
#   * KAFKA_LISTENERS defaults to KAFKA_ADVERTISED_LISTENERS with hosts replaced by 0.0.0.0;
#     SSL (KAFKA_SSL_*_FILENAME / _CREDENTIALS under /etc/kafka/secrets) and SASL checks;
#     KAFKA_JMX_PORT / KAFKA_JMX_HOSTNAME; arguments NAME=value are exported first.
# Then it execs kafka-server-start.sh as the invoking user (the image's default: appuser 1000).
set -eu
[ "${TRACE:-}" != true ] || set -vx

die() {
    echo "$*"
    exit 1
}
ensure() {
    eval "[ -n \"\${$1:-}\" ]" || die "$1 environment variable not set"
}
exists() {
    [ -e "$1" ] || die "$1 file does not exist"
}

if [ $# -ne 0 ]; then
    echo "===> Overriding env params with args ..."
    for var in "$@"; do
        export "${var?}"
    done
fi

echo "===> User"
id

echo "===> Setting default values of environment variables if not already set."
if [ -z "${CLUSTER_ID:-}" ]; then
    echo 'CLUSTER_ID not set. Setting it to default value: "5L6g3nShT-eMCtK--X86sw"'
    export CLUSTER_ID=5L6g3nShT-eMCtK--X86sw
fi

echo "===> Configuring ..."
if [ -n "${KAFKA_PROCESS_ROLES:-}" ]; then
    echo "Running in KRaft mode..."
    ensure CLUSTER_ID
    if [ "$KAFKA_PROCESS_ROLES" = controller ]; then
        [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ] ||
            die "KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller."
        sed '/advertised.listeners=/d' /etc/kafka/docker/server.properties >/etc/kafka/docker/server.properties.temp
        mv /etc/kafka/docker/server.properties.temp /etc/kafka/docker/server.properties
        unset KAFKA_ADVERTISED_LISTENERS
    fi
fi

if [ -z "${KAFKA_LISTENERS:-}" ] && [ "${KAFKA_PROCESS_ROLES:-}" != controller ] &&
    [ -n "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
    KAFKA_LISTENERS=$(echo "$KAFKA_ADVERTISED_LISTENERS" | sed -e 's|://[^:]*:|://0.0.0.0:|g')
    export KAFKA_LISTENERS
fi

[ -w /opt/kafka/config/ ] || die "/opt/kafka/config/ file not writable"

case "${KAFKA_ADVERTISED_LISTENERS:-}" in
    *SSL://*)
        echo "SSL is enabled."
        ensure KAFKA_SSL_KEYSTORE_FILENAME
        export KAFKA_SSL_KEYSTORE_LOCATION="/etc/kafka/secrets/$KAFKA_SSL_KEYSTORE_FILENAME"
        exists "$KAFKA_SSL_KEYSTORE_LOCATION"
        ensure KAFKA_SSL_KEY_CREDENTIALS
        exists "/etc/kafka/secrets/$KAFKA_SSL_KEY_CREDENTIALS"
        KAFKA_SSL_KEY_PASSWORD=$(cat "/etc/kafka/secrets/$KAFKA_SSL_KEY_CREDENTIALS")
        export KAFKA_SSL_KEY_PASSWORD
        ensure KAFKA_SSL_KEYSTORE_CREDENTIALS
        exists "/etc/kafka/secrets/$KAFKA_SSL_KEYSTORE_CREDENTIALS"
        KAFKA_SSL_KEYSTORE_PASSWORD=$(cat "/etc/kafka/secrets/$KAFKA_SSL_KEYSTORE_CREDENTIALS")
        export KAFKA_SSL_KEYSTORE_PASSWORD
        case "${KAFKA_SSL_CLIENT_AUTH:-}" in
            *required* | *requested*)
                ensure KAFKA_SSL_TRUSTSTORE_FILENAME
                export KAFKA_SSL_TRUSTSTORE_LOCATION="/etc/kafka/secrets/$KAFKA_SSL_TRUSTSTORE_FILENAME"
                exists "$KAFKA_SSL_TRUSTSTORE_LOCATION"
                ensure KAFKA_SSL_TRUSTSTORE_CREDENTIALS
                exists "/etc/kafka/secrets/$KAFKA_SSL_TRUSTSTORE_CREDENTIALS"
                KAFKA_SSL_TRUSTSTORE_PASSWORD=$(cat "/etc/kafka/secrets/$KAFKA_SSL_TRUSTSTORE_CREDENTIALS")
                export KAFKA_SSL_TRUSTSTORE_PASSWORD
                ;;
        esac
        ;;
esac

case "${KAFKA_ADVERTISED_LISTENERS:-}" in
    *SASL_*://*)
        echo "SASL is enabled."
        ensure KAFKA_OPTS
        case "$KAFKA_OPTS" in
            *java.security.auth.login.config*) ;;
            *) echo "KAFKA_OPTS should contain 'java.security.auth.login.config' property." ;;
        esac
        ;;
esac

if [ -n "${KAFKA_JMX_OPTS:-}" ]; then
    case "$KAFKA_JMX_OPTS" in
        *com.sun.management.jmxremote.rmi.port*) ;;
        *) echo "KAFKA_OPTS should contain 'com.sun.management.jmxremote.rmi.port' property. It is required for accessing the JMX metrics externally." ;;
    esac
fi

echo "===> Launching ... "
if [ -z "${KAFKA_JMX_OPTS:-}" ]; then
    export KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false  -Dcom.sun.management.jmxremote.ssl=false "
fi
if [ -z "${KAFKA_JMX_HOSTNAME:-}" ]; then
    KAFKA_JMX_HOSTNAME=$(hostname -i 2>/dev/null | cut -d" " -f1) || KAFKA_JMX_HOSTNAME=""
fi
export KAFKA_JMX_HOSTNAME
if [ -n "${KAFKA_JMX_PORT:-}" ]; then
    export JMX_PORT="$KAFKA_JMX_PORT"
    export KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Djava.rmi.server.hostname=$KAFKA_JMX_HOSTNAME -Dcom.sun.management.jmxremote.local.only=false -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT -Dcom.sun.management.jmxremote.port=$JMX_PORT"
fi

echo "===> Using provided cluster id $CLUSTER_ID ..."
# Writes server.properties, log4j2.yaml, tools-log4j2.yaml to /opt/kafka/config, then formats.
if ! result=$(/opt/kafka/bin/kafka-run-class.sh kafka.docker.KafkaDockerWrapper setup \
    --default-configs-dir /etc/kafka/docker \
    --mounted-configs-dir /mnt/shared/config \
    --final-configs-dir /opt/kafka/config 2>&1); then
    echo "$result" | grep -i "already formatted" || die "$result"
fi

exec /opt/kafka/bin/kafka-server-start.sh /opt/kafka/config/server.properties
