"""Execute the SQL the program runs on a real PostgreSQL (Debian's), started by the test as
a non-root user in a temp dir (unix socket only, no TCP), then check its effect.

What is executed, generically from a mock run:
  * every captured `postgresql:index/role:Role`, `.../database:Database` and
    `.../extension:Extension` as the SQL the provider issues (CREATE ROLE ... LOGIN
    PASSWORD, CREATE DATABASE ... OWNER, CREATE EXTENSION IF NOT EXISTS in its database);
    extensions the local server does not ship (AGE; pgvector where Debian lacks it) are
    reported as unavailable, not executed;
  * the AGE graph SQL of `components/data/sql.py` only when the `age` extension exists;
  * the tenant RLS SQL (`tenant_rls_sql`, platform.md section 6) as table owner.
Other postgresql resource types are reported as not executed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools import mockrun

PG_TYPES = {
    "postgresql:index/role:Role",
    "postgresql:index/database:Database",
    "postgresql:index/extension:Extension",
}


def _bindir() -> Path | None:
    base = Path("/usr/lib/postgresql")
    if not base.exists():
        return None
    versions = sorted(
        (p for p in base.iterdir() if (p / "bin" / "initdb").exists()), key=lambda p: int(p.name)
    )
    return versions[-1] / "bin" if versions else None


class PostgresUnavailableError(Exception):
    pass


@dataclass
class Server:
    bindir: Path
    datadir: Path
    sockdir: Path
    port: int
    user: str | None  # OS user the server runs as (None: the current user)

    def _as_user(self, cmd: list[str]) -> list[str]:
        if self.user is None:
            return cmd
        return ["runuser", "-u", self.user, "--", *cmd]

    def psql(
        self, sql: str, db: str = "postgres", user: str = "postgres", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"]
        cmd += ["-h", str(self.sockdir), "-p", str(self.port), "-U", user, "-d", db, "-f", "-"]
        return subprocess.run(
            self._as_user(cmd), input=sql, capture_output=True, text=True, timeout=60, env=env or None
        )

    def ok(self, sql: str, db: str = "postgres", user: str = "postgres") -> str:
        p = self.psql(sql, db, user)
        if p.returncode != 0:
            raise AssertionError(f"SQL failed as {user} on {db}: {p.stderr.strip()}\n--- SQL ---\n{sql}")
        return p.stdout.strip()


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """A throwaway cluster: initdb (trust auth on the socket), pg_ctl start, stop, remove."""
    bindir = _bindir()
    if bindir is None:
        raise PostgresUnavailableError(
            "PostgreSQL server not installed (tools/ci-setup.sh installs postgresql)"
        )
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            import pwd

            pwd.getpwnam(user)
        except KeyError:
            raise PostgresUnavailableError(
                "running as root and no 'postgres' OS user to run the server"
            ) from None
        if shutil.which("runuser") is None:
            raise PostgresUnavailableError("running as root and runuser is missing")
    tmp = Path(tempfile.mkdtemp(prefix="agent-os-pg-"))
    tmp.chmod(0o755)
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if user is not None:
        shutil.chown(tmp, user)
        shutil.chown(sock, user)
    port = 54329
    srv = Server(bindir, data, sock, port, user)
    run = srv._as_user
    try:
        subprocess.run(
            run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-c listen_addresses='' -c unix_socket_directories={sock} -p {port} -c fsync=off"
        subprocess.run(
            run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    opts,
                    "-l",
                    str(tmp / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=90,
        )
        deadline = time.monotonic() + 30
        while srv.psql("SELECT 1").returncode != 0:
            if time.monotonic() > deadline:
                raise PostgresUnavailableError("postgres did not accept connections")
            time.sleep(0.5)
        yield srv
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(
                run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


@dataclass
class Applied:
    roles: list[str] = field(default_factory=list[str])
    databases: list[str] = field(default_factory=list[str])
    extensions: list[str] = field(default_factory=list[str])  # "name@db"
    unavailable: list[str] = field(default_factory=list[str])
    not_executed: list[str] = field(default_factory=list[str])


def available_extensions(srv: Server) -> set[str]:
    return set(srv.ok("SELECT name FROM pg_available_extensions").split())


def apply_run(srv: Server, run: mockrun.Run) -> Applied:
    """Issue the SQL the postgresql provider would for the captured resources."""
    out = Applied()
    avail = available_extensions(srv)
    pg = [r for r in run.resources if r.type.startswith("postgresql:index/")]
    for r in pg:
        if r.type not in PG_TYPES:
            out.not_executed.append(f"{r.type} {r.name}")
    for r in (r for r in pg if r.type == "postgresql:index/role:Role"):
        i = r.plain
        login = "LOGIN" if i.get("login") else "NOLOGIN"
        pw = f" PASSWORD {literal(i['password'])}" if i.get("password") else ""
        srv.ok(f"CREATE ROLE {ident(i['name'])} {login}{pw};")
        out.roles.append(i["name"])
    for r in (r for r in pg if r.type == "postgresql:index/database:Database"):
        i = r.plain
        owner = f" OWNER {ident(i['owner'])}" if i.get("owner") else ""
        srv.ok(f"CREATE DATABASE {ident(i['name'])}{owner};")
        out.databases.append(i["name"])
    for r in (r for r in pg if r.type == "postgresql:index/extension:Extension"):
        i = r.plain
        db = i.get("database", "postgres")
        if i["name"] not in avail:
            out.unavailable.append(f"{i['name']}@{db}")
            continue
        schema = f" SCHEMA {ident(i['schema'])}" if i.get("schema") else ""
        srv.ok(f"CREATE EXTENSION IF NOT EXISTS {ident(i['name'])}{schema};", db=db)
        out.extensions.append(f"{i['name']}@{db}")
    return out


__all__ = ["Applied", "PostgresUnavailableError", "Server", "apply_run", "available_extensions", "server"]
