"""Postgres 17 + Apache AGE + pgvector from Debian trixie, with our own entrypoint.

Stands in for images/postgres-age-pgvector (FROM postgres:17-trixie), under the program's
default ref, so the data layer runs it unchanged. Debian's AGE package is 1.5.0~rc0.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe

PG = "17"
PG_BIN = f"/usr/lib/postgresql/{PG}/bin"

RECIPE = Recipe(
    name="postgres",
    alias="agent-os/postgres-age-pgvector:17-age1.5.0-pgvector0.8.0",
    source=Path(__file__),
    # The official image's uid/gid 999, so volumes move between the two; no `main` cluster
    # from postgresql-common's postinst (the entrypoint makes PGDATA's).
    before="""\
groupadd --system --gid 999 postgres
useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres
mkdir -p /var/lib/postgresql /etc/postgresql-common/createcluster.d
chown postgres:postgres /var/lib/postgresql
echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/agent-os.conf
""",
    packages=(
        f"postgresql-{PG}",
        f"postgresql-{PG}-age=1.5.0~rc0-*",
        f"postgresql-{PG}-pgvector=0.8.0-*",
    ),
    files=(CopyFile(HERE / "files/postgres-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh", 0o755),),
    after="""\
mkdir -p /var/run/postgresql /var/lib/postgresql/data /docker-entrypoint-initdb.d
chown postgres:postgres /var/run/postgresql /var/lib/postgresql/data
chmod 3777 /var/run/postgresql
chmod 1777 /var/lib/postgresql/data
""",
    config=ImageConfig(
        entrypoint=("/usr/local/bin/docker-entrypoint.sh",),
        cmd=("postgres", "-c", "shared_preload_libraries=age"),
        env={
            "PATH": f"{PG_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PGDATA": "/var/lib/postgresql/data",
            "LANG": "C.UTF-8",
        },
        expose=("5432",),
        volumes=("/var/lib/postgresql/data",),
    ),
    report=(f"postgresql-{PG}", f"postgresql-{PG}-age", f"postgresql-{PG}-pgvector", "postgresql-common"),
)
