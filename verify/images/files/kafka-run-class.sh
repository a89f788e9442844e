#!/bin/sh
# agent-os test image: our own thin POSIX port of Kafka 4.1's bin/kafka-run-class.sh.
# Same environment contract: CLASSPATH (prepended), KAFKA_HEAP_OPTS (default -Xmx256M),
# KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS + JMX_PORT, KAFKA_LOG4J_OPTS
# (default: config/tools-log4j2.yaml), KAFKA_OPTS, KAFKA_DEBUG (+ JAVA_DEBUG_PORT,
# DEBUG_SUSPEND_FLAG), LOG_DIR (default /opt/kafka/logs), JAVA_HOME; options -daemon, -name,
# -loggc before the class name. Every jar of libs/ is on the classpath.
set -eu

usage() {
    echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
    exit 1
}
[ $# -ge 1 ] || usage

base_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
LOG_DIR=${LOG_DIR:-$base_dir/logs}
mkdir -p "$LOG_DIR" 2>/dev/null || :

daemon=false
name=""
loggc=false
while [ $# -gt 0 ]; do
    case "$1" in
        -name)
            [ $# -ge 2 ] || usage
            name=$2
            shift 2
            ;;
        -loggc) loggc=true && shift ;;
        -daemon) daemon=true && shift ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage

cp="$base_dir/libs/*"
[ -z "${CLASSPATH:-}" ] || cp="$CLASSPATH:$cp"

heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
jmx=${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}
if [ -n "${JMX_PORT:-}" ]; then
    jmx="$jmx -Dcom.sun.management.jmxremote.port=$JMX_PORT"
    case "$jmx" in
        *-Dcom.sun.management.jmxremote.rmi.port=*) ;;
        *) jmx="$jmx -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT" ;;
    esac
fi
log4j="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml} -Dkafka.logs.dir=$LOG_DIR"
gc=""
if $loggc && [ -n "$name" ]; then
    gc=${KAFKA_GC_LOG_OPTS:--Xlog:gc*:file=$LOG_DIR/$name-gc.log:time,tags:filecount=10,filesize=100M}
fi
debug=""
if [ -n "${KAFKA_DEBUG:-}" ]; then
    debug="-agentlib:jdwp=transport=dt_socket,server=y,suspend=${DEBUG_SUSPEND_FLAG:-n},address=${JAVA_DEBUG_PORT:-0.0.0.0:5005}"
fi
java=java
[ -z "${JAVA_HOME:-}" ] || java="$JAVA_HOME/bin/java"

# Word lists, split as the upstream script splits them (but never globbed).
set -f
# shellcheck disable=SC2086
set -- "$java" $heap $perf $gc $jmx $log4j $debug -cp "$cp" ${KAFKA_OPTS:-} "$@"
if $daemon; then
    [ -n "$name" ] || name=kafka
    nohup "$@" >"$LOG_DIR/$name.out" 2>&1 </dev/null &
    exit 0
fi
exec "$@"
