#!/bin/sh
# agent-os test image: our own entrypoint for Debian's PostgreSQL 17, honouring the official
# postgres image's documented contract that the program relies on:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE,
#   POSTGRES_DB (default $POSTGRES_USER), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD
#   (default scram-sha-256), PGDATA, /docker-entrypoint-initdb.d/*.sh and *.sql on first start.
# Started as root it prepares PGDATA and the socket dir, reads the password file (Swarm
# secrets are root-only 0400), then runs initdb and the server as user `postgres`.
set -eu

die() {
    echo "postgres-entrypoint: $*" >&2
    exit 1
}

case "${1:-}" in
    '') set -- postgres ;;
    -*) set -- postgres "$@" ;;
esac
[ "$1" = postgres ] || exec "$@"

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    [ -z "${POSTGRES_PASSWORD:-}" ] || die "set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both"
    [ -r "$POSTGRES_PASSWORD_FILE" ] || die "cannot read POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE"
    POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi

if [ "$(id -u)" = 0 ]; then
    as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres /var/run/postgresql
    chmod 3777 /var/run/postgresql
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$PGDATA"
else
    as_pg() { "$@"; }
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA" 2>/dev/null || :
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        die "PGDATA ($PGDATA) is empty and no password is set: set POSTGRES_PASSWORD_FILE"
    fi
    pwdir=$(mktemp -d)
    (umask 077 && printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwdir/pw")
    [ "$(id -u)" != 0 ] || chown -R postgres:postgres "$pwdir"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list, as in the official image
    as_pg initdb --username="$POSTGRES_USER" --pwfile="$pwdir/pw" --auth-local=trust \
        --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" || {
        rm -rf "$pwdir"
        die "initdb failed"
    }
    rm -rf "$pwdir"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    scripts=$(find /docker-entrypoint-initdb.d -maxdepth 1 -type f 2>/dev/null | sort)
    if [ "$POSTGRES_DB" != postgres ] || [ -n "$scripts" ]; then
        export PGUSER="$POSTGRES_USER" PGHOST=/var/run/postgresql
        as_pg pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses=''" start
        if [ "$POSTGRES_DB" != postgres ]; then
            printf 'CREATE DATABASE :"db";\n' | as_pg psql -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" -d postgres -q
        fi
        for f in $scripts; do
            case "$f" in
                *.sh) echo "postgres-entrypoint: running $f" && as_pg sh "$f" ;;
                *.sql) echo "postgres-entrypoint: running $f" && as_pg psql -v ON_ERROR_STOP=1 -d "$POSTGRES_DB" -f "$f" ;;
                *) echo "postgres-entrypoint: ignoring $f" ;;
            esac
        done
        as_pg pg_ctl -D "$PGDATA" -m fast -w stop
        unset PGUSER PGHOST
    fi
    echo "postgres-entrypoint: initialised $PGDATA"
fi

unset POSTGRES_PASSWORD
if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
fi
exec "$@"
