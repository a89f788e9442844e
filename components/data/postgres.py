"""Postgres + Apache AGE: one pinned replica, stop-first, databases and roles as code."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_postgresql as postgresql

from ..config.swarm import Layer
from ..model import Placement
from ..swarm import (
    HealthCheck,
    Probe,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    readiness_gate,
    swarm_service,
)
from ..swarm.context import DataPlatform, Platform
from .plan import GRAPH, KG_DB, STATE_DB
from .sql import create_graph_sql, tenant_rls_sql

PASSWORD_FILE = "/run/secrets/postgres_password"


def postgres_service(
    platform: DataPlatform,
    placement: Placement,
    superuser_password: pulumi.Output[str],
    parent: pulumi.Resource,
) -> docker.Service:
    pg = platform.data.postgres
    secret = platform.secret("postgres-password", superuser_password, parent)
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("postgres"),
        # Overriding CMD means re-adding the AGE preload the image's CMD carries.
        args=("postgres", "-c", "shared_preload_libraries=age", "-c", f"port={pg.port}"),
        env={
            "POSTGRES_USER": pg.superuser,
            "POSTGRES_PASSWORD_FILE": PASSWORD_FILE,
            "POSTGRES_DB": "postgres",
            "PGDATA": "/var/lib/postgresql/data/pgdata",
        },
        secrets=(SecretFile(secret=secret, target=PASSWORD_FILE),),
        volumes=(VolumeMount(source=f"{platform.namespace}-pg-age-data", target="/var/lib/postgresql/data"),),
        resources=pg.resources,
        networks=(Layer.DATA,),
        stateful=True,
        # The entrypoint chowns PGDATA and drops to the postgres user.
        cap_add=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"),
        stop_grace_period="60s",
        health=HealthCheck.shell(
            f"pg_isready -h 127.0.0.1 -p {pg.port} -U {pg.superuser} -d postgres",
            interval="10s",
            retries=10,
            start_period="30s",
        ),
    )
    return swarm_service(platform, spec, parent)


def admin_tunnel(platform: DataPlatform, postgres: Placement, parent: pulumi.Resource) -> docker.Container:
    """A loopback-only socat on the manager into the data overlay, for the postgresql
    provider (see README "Admin access"). Not a Swarm service; publishes on 127.0.0.1.
    It resolves `pg-age` per connection, so it starts in parallel with Postgres; the
    readiness gate waits for both."""
    acc = platform.access
    pg = platform.data.postgres
    net = platform.networks[Layer.DATA]
    return docker.Container(
        "pg-admin-tunnel",
        name=f"{platform.namespace}-pg-admin-tunnel",
        image=platform.image("socat"),
        command=[f"TCP-LISTEN:{pg.port},fork,reuseaddr", f"TCP:{postgres.at(pg.port)}"],
        ports=[docker.ContainerPortArgs(internal=pg.port, external=acc.postgres_port, ip="127.0.0.1")],
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=net.name)],
        restart="unless-stopped",
        capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
        read_only=True,
        memory=64,
        labels=[docker.ContainerLabelArgs(label="com.docker.stack.namespace", value=platform.namespace)],
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class PostgresOutputs:
    host: str  # service DNS name on the data overlay
    port: int
    provider: postgresql.Provider
    ready: command.local.Command


def postgres_admin(
    platform: DataPlatform,
    postgres: Placement,
    superuser_password: pulumi.Output[str],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> PostgresOutputs:
    """Readiness gate, then an explicit provider configured from preview-known values."""
    acc = platform.access
    pg = platform.data.postgres
    gate = readiness_gate(
        "postgres-ready",
        "Postgres",
        Probe.tcp(acc.postgres_host, acc.postgres_port),
        acc,
        after,
        parent,
    )
    provider = postgresql.Provider(
        "postgresql",
        host=acc.postgres_host,
        port=acc.postgres_port,
        username=pg.superuser,
        password=superuser_password,
        database="postgres",
        sslmode="disable",
        superuser=True,
        connect_timeout=15,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[gate]),
    )
    return PostgresOutputs(host=postgres.service, port=pg.port, provider=provider, ready=gate)


@dataclass(frozen=True)
class AppDatabases:
    role: postgresql.Role
    kg: postgresql.Database
    state: postgresql.Database
    extensions: list[postgresql.Extension]
    graph: command.local.Command
    # AGE in template1, before any database is made: with AGE preloaded, DROP-type DDL fails
    # in a database without the extension (apache/age#2180, unfixed in 1.5.0), e.g. in
    # Keycloak's migrations. Every database the stack creates copies it from here.
    age_template: postgresql.Extension


def app_databases(
    platform: DataPlatform,
    admin: PostgresOutputs,
    app_password: pulumi.Output[str],
    superuser_password: pulumi.Output[str],
    parent: pulumi.Resource,
) -> AppDatabases:
    pg = platform.data.postgres
    opts = pulumi.ResourceOptions(parent=parent, provider=admin.provider)
    template = postgresql.Extension("ext-age-template1", name="age", database="template1", opts=opts)
    role = postgresql.Role("role-agent", name=pg.app_role, login=True, password=app_password, opts=opts)
    db_opts = pulumi.ResourceOptions(parent=parent, provider=admin.provider, depends_on=[template])
    # Named explicitly: without `template` the provider creates from template0 (no AGE).
    kg = postgresql.Database(
        "db-agent-kg", name=KG_DB, owner=role.name, template=template.database, opts=db_opts
    )
    state = postgresql.Database(
        "db-agent-state", name=STATE_DB, owner=role.name, template=template.database, opts=db_opts
    )
    # agent_kg inherits age from template1; pgvector is created where the app uses it.
    exts = [template, postgresql.Extension("ext-vector-kg", name="vector", database=kg.name, opts=opts)]
    acc = platform.access
    sql = create_graph_sql(GRAPH, pg.app_role)
    conn = f"host={acc.postgres_host} port={acc.postgres_port} user={pg.superuser} dbname={KG_DB}"
    graph = command.local.Command(
        "age-graph",
        create=f'psql {shlex.quote(conn)} -v ON_ERROR_STOP=1 -q -c "$AGENT_OS_SQL"',
        environment={"PGPASSWORD": superuser_password, "AGENT_OS_SQL": sql},
        triggers=[sql],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=exts),
    )
    return AppDatabases(role=role, kg=kg, state=state, extensions=exts, graph=graph, age_template=template)


def tenant_rls(
    platform: Platform,
    app_role: str,
    app_password: pulumi.Output[str],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> command.local.Command:
    """Tenant row-level security on every app table, in both app databases, as their owner
    (the app role). The app creates its tables when it starts, so this runs after the app
    services (`after`), and again whenever the SQL changes; the SQL is idempotent."""
    acc = platform.access
    sql = tenant_rls_sql()
    steps = [
        f"psql {shlex.quote(f'host={acc.postgres_host} port={acc.postgres_port} user={app_role} dbname={db}')} "
        '-v ON_ERROR_STOP=1 -q -c "$AGENT_OS_SQL"'
        for db in (KG_DB, STATE_DB)
    ]
    return command.local.Command(
        "tenant-rls",
        create=" && ".join(steps),
        update=" && ".join(steps),
        environment={"PGPASSWORD": pulumi.Output.secret(app_password), "AGENT_OS_SQL": sql},
        triggers=[sql],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )
