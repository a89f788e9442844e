#!/bin/sh
# agent-os test image: our own POSIX-sh port of the official OpenBao image's entrypoint
# (.release/docker/docker-entrypoint.sh upstream), which the program relies on:
#   `server ARGS`  -> bao server -config=/openbao/config ... ARGS (every file there is loaded)
#   a leading -flag or a bao subcommand -> run through bao
#   unless SKIP_CHOWN: chown /openbao/{config,logs,file} to openbao when bind-mounted
#   unless SKIP_SETCAP: setcap cap_ipc_lock on bao (dropped again if bao can't run with it)
#   started as root -> drop to user `openbao` (setpriv here, su-exec upstream)
# dumb-init (PID 1) is the image's ENTRYPOINT in front of this script, as upstream.
set -e
ulimit -c 0

BAO_CONFIG_DIR=/openbao/config
if [ -n "${BAO_LOCAL_CONFIG:-}" ]; then
    echo "$BAO_LOCAL_CONFIG" >"$BAO_CONFIG_DIR/local.json"
fi

case "${1:-}" in
    -*) set -- bao "$@" ;;
esac

if [ "${1:-}" = server ]; then
    shift
    set -- bao server \
        -config="$BAO_CONFIG_DIR" \
        -dev-root-token-id="${BAO_DEV_ROOT_TOKEN_ID:-}" \
        -dev-listen-address="${BAO_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}" \
        "$@"
elif [ "${1:-}" = version ]; then
    set -- bao "$@"
elif [ -n "${1:-}" ] && bao --help "$1" 2>&1 | grep -q "bao $1"; then
    set -- bao "$@"
fi

if [ "${1:-}" = bao ]; then
    if [ -z "${SKIP_CHOWN:-}" ]; then
        for d in config logs file; do
            if [ "$(stat -c %u "/openbao/$d")" != "$(id -u openbao)" ]; then
                chown -R openbao:openbao "/openbao/$d" || echo "Could not chown /openbao/$d (may not have appropriate permissions)"
            fi
        done
    fi
    if [ -z "${SKIP_SETCAP:-}" ]; then
        setcap cap_ipc_lock=+ep "$(readlink -f "$(command -v bao)")"
        if ! bao -version >/dev/null 2>&1; then
            echo "Couldn't start bao with IPC_LOCK. Disabling IPC_LOCK, please use --cap-add IPC_LOCK" >&2
            setcap cap_ipc_lock=-ep "$(readlink -f "$(command -v bao)")"
        fi
    fi
    if [ "$(id -u)" = 0 ]; then
        set -- setpriv --reuid=openbao --regid=openbao --init-groups -- "$@"
    fi
fi

exec "$@"
