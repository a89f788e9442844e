"""verify/providers/postgresql.py through the real Pulumi CLI and engine, against the real
Postgres image built here (AGE + pgvector, verify/images/recipes/postgres.py).

One throwaway project drives the provider as the program does (superuser connection,
login roles with passwords, a database owned by a role, extensions in it); every step is
checked from outside with psql: logins with the roles' passwords (and a wrong one refused),
ownership, the extensions, in-place updates (password, rename), refresh after an
out-of-band drop, and destroy."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.enginehelp import Workspace, build_toolchain, changes, mini_project
from verify.engine import EngineUnavailableError, start_engine
from verify.images import build
from verify.images.recipes import RECIPES

pytestmark = [pytest.mark.engine, pytest.mark.images]

SUPERUSER = "postgres"
PROGRAM = """
import pulumi
import pulumi_postgresql as postgresql

cfg = pulumi.Config()
provider = postgresql.Provider(
    "postgresql",
    host="127.0.0.1",
    port=int(cfg.require("port")),
    username="postgres",
    password=cfg.require_secret("superPassword"),
    database="postgres",
    sslmode="disable",
    superuser=True,
    connect_timeout=15,
)
opts = pulumi.ResourceOptions(provider=provider)
owner = postgresql.Role(
    "owner", name="pvp_owner", login=True, password=cfg.require_secret("ownerPassword"), opts=opts
)
# A name and a password that need quoting (no SQL injection through either).
reader = postgresql.Role(
    "reader", name=cfg.require("readerName"), login=True, password=cfg.require_secret("readerPassword"), opts=opts
)
db = postgresql.Database("db", name="pvp_db", owner=owner.name, opts=opts)
vector = postgresql.Extension("vector", name="vector", database=db.name, opts=opts)
age = postgresql.Extension("age", name="age", database=db.name, opts=opts)
pulumi.export("dbId", db.id)
pulumi.export("ageId", age.id)
pulumi.export("ageVersion", age.version)
pulumi.export("encoding", db.encoding)
pulumi.export("template", db.template)
"""

READER = 'pvp reader"; DROP ROLE postgres; --'
READER_RENAMED = "pvp_reader_2"


@dataclass
class Pg:
    port: int
    password: str

    def psql(self, sql: str, user: str = SUPERUSER, password: str | None = None, db: str = "postgres") -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": user,
            "PGDATABASE": db,
            "PGPASSWORD": self.password if password is None else password,
            "PGSSLMODE": "disable",
            "PGCONNECT_TIMEOUT": "5",
        }
        done = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise PsqlError(done.stderr.strip())
        return done.stdout.strip()

    def can_login(self, user: str, password: str, db: str = "postgres") -> bool:
        try:
            return self.psql("SELECT current_user", user=user, password=password, db=db) == user
        except PsqlError as e:
            assert "password authentication failed" in str(e) or "not permitted to log in" in str(e), e
            return False


class PsqlError(Exception):
    pass


@pytest.fixture(scope="module")
def pg() -> Iterator[Pg]:
    try:
        client = start_engine().client
    except EngineUnavailableError as e:  # no engine here: nothing to run the image on
        pytest.skip(str(e))
    lock = build.acquire_lock()
    try:
        image = build.ensure(client, RECIPES["postgres"], build.rootfs.uv_version()).alias
    finally:
        lock.close()
    password = secrets.token_hex(16)
    c = client.containers.run(  # pyright: ignore[reportCallIssue]
        image,
        ["postgres", "-c", "shared_preload_libraries=age"],
        name=f"pvp-{secrets.token_hex(4)}",
        detach=True,
        environment={"POSTGRES_PASSWORD": password, "POSTGRES_USER": SUPERUSER},
        ports={"5432/tcp": ("127.0.0.1", None)},  # pyright: ignore[reportArgumentType]
    )
    try:
        c.reload()
        port = int(c.attrs["NetworkSettings"]["Ports"]["5432/tcp"][0]["HostPort"])
        server = Pg(port, password)
        deadline = time.monotonic() + 120
        while True:  # the entrypoint's init server listens on the socket only: TCP means ready
            try:
                server.psql("SELECT 1")
                break
            except PsqlError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield server
    finally:
        c.remove(force=True, v=True)


@pytest.fixture(scope="module")
def ws(pg: Pg, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = Path(tmp_path_factory.mktemp("pvp"))
    w = mini_project(root, build_toolchain(), PROGRAM, name="pvp")
    w.pulumi("config", "set", "port", str(pg.port), "-s", "test")
    w.pulumi("config", "set", "--secret", "superPassword", pg.password, "-s", "test")
    w.pulumi("config", "set", "--secret", "ownerPassword", "own'er\\pw-1", "-s", "test")
    w.pulumi("config", "set", "readerName", READER, "-s", "test")
    w.pulumi("config", "set", "--secret", "readerPassword", secrets.token_hex(12), "-s", "test")
    return w


def roles(pg: Pg) -> set[str]:
    return set(pg.psql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'pvp%'").splitlines())


def test_lifecycle(pg: Pg, ws: Workspace) -> None:
    reader_pw = ws.pulumi("config", "get", "readerPassword", "-s", "test").stdout.strip()

    # -- create --------------------------------------------------------------------------
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert changes(pre) == {"create": ["age", "db", "owner", "postgresql", "pvp-test", "reader", "vector"]}
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    assert roles(pg) == {"pvp_owner", READER}
    assert pg.can_login("pvp_owner", "own'er\\pw-1", db="pvp_db")
    assert not pg.can_login("pvp_owner", "wrong", db="pvp_db")
    assert pg.can_login(READER, reader_pw)
    assert pg.psql("SELECT 1 FROM pg_roles WHERE rolname = 'postgres' AND rolsuper") == "1"
    assert pg.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'pvp_db'") == "pvp_owner"
    assert (
        pg.psql("SELECT rolcanlogin, rolsuper, rolconnlimit FROM pg_roles WHERE rolname='pvp_owner'")
        == "t|f|-1"
    )
    exts = pg.psql("SELECT extname || '=' || extversion FROM pg_extension ORDER BY 1", db="pvp_db")
    assert exts.splitlines() == ["age=1.5.0", "plpgsql=1.0", "vector=0.8.0"]
    outs = ws.pulumi("stack", "output", "--json", "-s", "test").json()
    # IDs and computed outputs as the upstream sets them
    assert outs["dbId"] == "pvp_db"
    assert outs["ageId"] == "pvp_db.age"
    assert outs["ageVersion"] == "1.5.0"
    assert outs["encoding"] == "UTF8"
    assert outs["template"] == "template0"
    # the secrets stay secret in the state
    state = ws.pulumi("stack", "export", "-s", "test").stdout
    assert "own'er" not in state and reader_pw not in state and pg.password not in state

    # -- nothing to do -------------------------------------------------------------------
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

    # -- in-place updates: a password and a rename ---------------------------------------
    ws.pulumi("config", "set", "--secret", "ownerPassword", "new-owner-pw", "-s", "test")
    ws.pulumi("config", "set", "readerName", READER_RENAMED, "-s", "test")
    pre = ws.pulumi("preview", "--json", "-s", "test")
    ops = changes(pre)
    assert ops.get("update") == ["owner", "reader"], ops
    assert not ops.get("replace") and not ops.get("create") and not ops.get("delete"), ops
    ws.pulumi("up", "--yes", "-s", "test")
    assert not pg.can_login("pvp_owner", "own'er\\pw-1", db="pvp_db")
    assert pg.can_login("pvp_owner", "new-owner-pw", db="pvp_db")
    assert roles(pg) == {"pvp_owner", READER_RENAMED}
    assert pg.can_login(READER_RENAMED, reader_pw)  # the password set again after the rename
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

    # -- out of band: a dropped extension is gone on refresh, and comes back -------------
    pg.psql("DROP EXTENSION age", db="pvp_db")
    pre = ws.pulumi("preview", "--refresh", "--json", "-s", "test")
    assert changes(pre).get("create") == ["age"], changes(pre)
    ws.pulumi("up", "--yes", "--refresh", "-s", "test")
    assert "age" in pg.psql("SELECT extname FROM pg_extension", db="pvp_db").splitlines()
    # a role's login taken away out of band is drift that refresh sees
    pg.psql("ALTER ROLE pvp_owner NOLOGIN")
    assert not pg.can_login("pvp_owner", "new-owner-pw", db="pvp_db")
    pre = ws.pulumi("preview", "--refresh", "--json", "-s", "test")
    assert changes(pre).get("update") == ["owner"], changes(pre)
    ws.pulumi("up", "--yes", "--refresh", "-s", "test")
    assert pg.can_login("pvp_owner", "new-owner-pw", db="pvp_db")

    # -- destroy (with a connection open to the database) --------------------------------
    holder = subprocess.Popen(
        ["psql", "-X", "-c", "SELECT pg_sleep(300)"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(pg.port),
            "PGUSER": "pvp_owner",
            "PGPASSWORD": "new-owner-pw",
            "PGDATABASE": "pvp_db",
            "PGSSLMODE": "disable",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)
        ws.pulumi("destroy", "--yes", "-s", "test")
    finally:
        holder.kill()
        holder.wait()
    assert roles(pg) == set()
    assert pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'pvp_db'") == "0"
