"""postgresql: Role, Database, Extension, as cyrilgdn/terraform-provider-postgresql makes them.

The SQL is the upstream's (postgresql/resource_postgresql_{role,database,extension}.go), run
with the Debian `psql` client: the statements go to psql's stdin (never its argv), the
password in PGPASSWORD, identifiers and literals quoted here as lib/pq's QuoteIdentifier /
QuoteLiteral do. Semantics kept from the upstream:

* IDs: a role's and a database's ID is its name; an extension's is `<database>.<name>`.
* Role: every attribute updates in place (a rename is `ALTER ROLE .. RENAME TO`, and the
  password is set again after it, as a rename clears an MD5 password); defaults login=false,
  inherit=true, connectionLimit=-1, validUntil="infinity", encryptedPassword=true. Delete:
  `REASSIGN OWNED BY <role> TO <provider user>; DROP OWNED BY <role>; DROP ROLE` in one
  transaction (each skippable with skipReassignOwned / skipDropRole). With the provider's
  `superuser`, read compares the password with pg_shadow (a SCRAM hash counts as unchanged).
* Database: template, encoding, lcCollate, lcCtype replace (ForceNew); everything else updates
  (`ALTER DATABASE .. RENAME TO`, `OWNER TO`, ...). Without `template` the upstream creates
  from **template0** (and reads `template` back as "template0"), with ENCODING 'UTF8'. Delete
  blocks new connections, terminates the open ones, then `DROP DATABASE .. WITH (FORCE)`.
* Extension: name and database replace; schema (`ALTER EXTENSION .. SET SCHEMA`) and version
  (`ALTER EXTENSION .. UPDATE TO`) update. Create is `CREATE EXTENSION IF NOT EXISTS`; the
  database defaults to the provider's. Delete is `DROP EXTENSION .. RESTRICT` (or CASCADE).

Properties the program does not use and that would need more SQL (role memberships, search
path, statement timeouts, assume role, write-only passwords) are refused when set."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any, ClassVar

from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, is_unknown

PSQL = "psql"


def quote_ident(name: str) -> str:
    """lib/pq's QuoteIdentifier: double quotes, embedded ones doubled, cut at a NUL."""
    name = name.split("\0", 1)[0]
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """lib/pq's QuoteLiteral: single quotes doubled; with a backslash, an E'' string with
    backslashes doubled (right whatever standard_conforming_strings says)."""
    if "\0" in value:
        raise ProviderError("postgresql: a NUL byte cannot be sent in a literal")
    body = value.replace("'", "''")
    if "\\" in body:
        return " E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def as_bool(v: Any, default: bool) -> bool:
    if v is None or v == "":
        return default
    if isinstance(v, str):
        return v.strip().lower() in ("1", "t", "true", "yes", "on")
    return bool(v)


def as_int(v: Any, default: int) -> int:
    if v is None or v == "":
        return default
    return int(float(v))


class Client:
    """psql against the provider's server; one process per call."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @property
    def username(self) -> str:
        return str(self.config.get("username") or os.environ.get("PGUSER") or "postgres")

    @property
    def database(self) -> str:
        return str(self.config.get("database") or os.environ.get("PGDATABASE") or "postgres")

    @property
    def superuser(self) -> bool:
        return as_bool(self.config.get("superuser"), True)

    def _env(self, database: str | None) -> dict[str, str]:
        c = self.config
        if is_unknown(c):
            raise ProviderError("postgresql: the provider configuration is not known yet")
        host = c.get("host") or os.environ.get("PGHOST")
        if not host:
            raise ProviderError("postgresql: the provider needs `host`")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PGHOST": str(host),
            "PGPORT": str(as_int(c.get("port"), 5432)),
            "PGUSER": self.username,
            "PGDATABASE": database or self.database,
            "PGSSLMODE": str(c.get("sslmode") or c.get("sslMode") or os.environ.get("PGSSLMODE") or "prefer"),
            "PGCONNECT_TIMEOUT": str(as_int(c.get("connectTimeout"), 180)),
            "PGAPPNAME": "pulumi-resource-postgresql",
            "PGPASSFILE": "/dev/null",
        }
        password = c.get("password") or os.environ.get("PGPASSWORD")
        if password:
            env["PGPASSWORD"] = str(password)
        if c.get("sslrootcert"):
            env["PGSSLROOTCERT"] = str(c["sslrootcert"])
        return env

    def run(
        self, sql: str, database: str | None = None, transaction: bool = True, secrets: tuple[str, ...] = ()
    ) -> str:
        argv = [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=terse", "-f", "-"]
        if transaction:
            argv.insert(1, "-1")
        env = self._env(database)
        done = subprocess.run(
            argv, input=sql, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            msg = (done.stderr or done.stdout).strip()
            for s in (*secrets, env.get("PGPASSWORD", "")):
                if s:
                    msg = msg.replace(s, "***")
            raise ProviderError(f"postgresql ({env['PGDATABASE']}): {msg}")
        return done.stdout

    def rows(self, select: str, database: str | None = None) -> list[dict[str, Any]]:
        out = self.run(f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({select}) t;\n", database)
        return list(json.loads(out.strip() or "[]"))

    def database_exists(self, name: str) -> bool:
        return bool(
            self.rows(f"SELECT 1 AS x FROM pg_catalog.pg_database WHERE datname = {quote_literal(name)}")
        )


class PgResource(Resource):
    """Diff with the upstream's defaults applied; an Optional+Computed input left out of the
    program keeps what the server has (no change)."""

    defaults: ClassVar[dict[str, Any]] = {}
    computed: ClassVar[frozenset[str]] = frozenset()
    unsupported: ClassVar[dict[str, Any]] = {}  # property -> the only value accepted

    @property
    def client(self) -> Client:
        return Client(self.provider.config)

    def with_defaults(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **{k: v for k, v in inputs.items() if not k.startswith("__")}}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        for key, allowed in self.unsupported.items():
            if key in news and news[key] != allowed and not is_unknown(news[key]):
                raise ProviderError(f"{self.type_token}: `{key}` is not supported by this provider")
        return news

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        old, new = self.with_defaults(old_inputs), self.with_defaults(news)
        keys = sorted(
            k
            for k in set(old) | set(new)
            if old.get(k) != new.get(k) and not (k in self.computed and k not in news)
        )
        return Diff(updates=keys, replaces=[k for k in keys if k in self.replace_on])

    @staticmethod
    def live_inputs(inputs: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        return {k: live.get(k, v) for k, v in inputs.items()}


# -- Role ------------------------------------------------------------------------------------

ROLE_FLAGS: tuple[tuple[str, str, str, str], ...] = (
    # input, pg_roles column, enable, disable (the upstream's order)
    ("superuser", "rolsuper", "SUPERUSER", "NOSUPERUSER"),
    ("createDatabase", "rolcreatedb", "CREATEDB", "NOCREATEDB"),
    ("createRole", "rolcreaterole", "CREATEROLE", "NOCREATEROLE"),
    ("inherit", "rolinherit", "INHERIT", "NOINHERIT"),
    ("login", "rolcanlogin", "LOGIN", "NOLOGIN"),
    ("bypassRowLevelSecurity", "rolbypassrls", "BYPASSRLS", "NOBYPASSRLS"),
    ("replication", "rolreplication", "REPLICATION", "NOREPLICATION"),
)


class Role(PgResource):
    type_token = "postgresql:index/role:Role"
    defaults: ClassVar[dict[str, Any]] = {
        "superuser": False,
        "createDatabase": False,
        "createRole": False,
        "inherit": True,
        "login": False,
        "bypassRowLevelSecurity": False,
        "replication": False,
        "connectionLimit": -1,
        "validUntil": "infinity",
        "encryptedPassword": True,
        "skipDropRole": False,
        "skipReassignOwned": False,
        "roles": [],
        "searchPaths": [],
        "statementTimeout": 0,
        "idleInTransactionSessionTimeout": 0,
        "assumeRole": "",
    }
    unsupported: ClassVar[dict[str, Any]] = {
        "roles": [],
        "searchPaths": [],
        "statementTimeout": 0,
        "idleInTransactionSessionTimeout": 0,
        "assumeRole": "",
        "passwordWo": "",
        "passwordWoVersion": "",
        "encrypted": "",
    }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        news = super().check(olds, news)
        if not news.get("name"):
            raise ProviderError(f"{self.type_token}: `name` is required")
        if as_int(news.get("connectionLimit"), -1) < -1:
            raise ProviderError(f"{self.type_token}: connectionLimit must be at least -1")
        return news

    @staticmethod
    def _password_sql(i: dict[str, Any]) -> str:
        pw = str(i.get("password") or "")
        if pw.upper() == "NULL":
            return "PASSWORD NULL"
        return ("ENCRYPTED" if i["encryptedPassword"] else "UNENCRYPTED") + f" PASSWORD {quote_literal(pw)}"

    @staticmethod
    def _valid_until(i: dict[str, Any]) -> str:
        v = str(i.get("validUntil") or "")
        return "'infinity'" if v == "" or v.lower() == "infinity" else quote_literal(v)

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        if preview:
            return "", i
        opts: list[str] = []
        if i.get("password"):
            opts.append(self._password_sql(i))
        opts.append(f"VALID UNTIL {self._valid_until(i)}")
        opts.append(f"CONNECTION LIMIT {as_int(i['connectionLimit'], -1)}")
        opts += [on if as_bool(i[key], False) else off for key, _, on, off in ROLE_FLAGS]
        self.client.run(
            f"CREATE ROLE {quote_ident(i['name'])} WITH {' '.join(opts)};\n",
            secrets=(str(i.get("password") or ""),),
        )
        got = self.read(i["name"], i, inputs)
        if got is None:
            raise ProviderError(f"{self.type_token}: role {i['name']} not found after CREATE ROLE")
        return str(i["name"]), got[0]

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        old, new = self.with_defaults(old_inputs), self.with_defaults(news)
        if preview:
            return {**state, **new}
        name = str(new["name"])
        current = str(state.get("name") or old["name"] or id_)
        stmts: list[str] = []
        if name != current:
            stmts.append(f"ALTER ROLE {quote_ident(current)} RENAME TO {quote_ident(name)};")
        if (old.get("password") != new.get("password") or name != current) and new.get("password"):
            stmts.append(f"ALTER ROLE {quote_ident(name)} {self._password_sql(new)};")
        if old["bypassRowLevelSecurity"] != new["bypassRowLevelSecurity"]:
            flag = "BYPASSRLS" if as_bool(new["bypassRowLevelSecurity"], False) else "NOBYPASSRLS"
            stmts.append(f"ALTER ROLE {quote_ident(name)} WITH {flag};")
        if old["connectionLimit"] != new["connectionLimit"]:
            stmts.append(
                f"ALTER ROLE {quote_ident(name)} CONNECTION LIMIT {as_int(new['connectionLimit'], -1)};"
            )
        for key, _, on, off in ROLE_FLAGS:
            if key != "bypassRowLevelSecurity" and old[key] != new[key]:
                stmts.append(
                    f"ALTER ROLE {quote_ident(name)} WITH {on if as_bool(new[key], False) else off};"
                )
        if old["validUntil"] != new["validUntil"] and new["validUntil"]:
            stmts.append(f"ALTER ROLE {quote_ident(name)} VALID UNTIL {self._valid_until(new)};")
        if stmts:
            self.client.run("\n".join(stmts) + "\n", secrets=(str(new.get("password") or ""),))
        got = self.read(name, {**state, **new, "name": name}, news)
        if got is None:
            raise ProviderError(f"{self.type_token}: role {name} not found after the update")
        return got[0]

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        s = self.with_defaults(state)
        name = quote_ident(str(s.get("name") or id_))
        stmts: list[str] = []
        if not as_bool(s["skipReassignOwned"], False):
            stmts.append(f"REASSIGN OWNED BY {name} TO {quote_ident(self.client.username)};")
            stmts.append(f"DROP OWNED BY {name};")
        if not as_bool(s["skipDropRole"], False):
            stmts.append(f"DROP ROLE {name};")
        if stmts:
            self.client.run("\n".join(stmts) + "\n")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        name = str(state.get("name") or id_)
        cols = ", ".join(col for _, col, _, _ in ROLE_FLAGS)
        rows = self.client.rows(
            f"SELECT rolname, {cols}, rolconnlimit, COALESCE(rolvaliduntil::TEXT, 'infinity') AS validuntil "
            f"FROM pg_catalog.pg_roles WHERE rolname = {quote_literal(name)}"
        )
        if not rows:
            return None
        r = rows[0]
        live: dict[str, Any] = {key: bool(r[col]) for key, col, _, _ in ROLE_FLAGS}
        live |= {
            "name": r["rolname"],
            "connectionLimit": r["rolconnlimit"],
            "validUntil": r["validuntil"],
            "encryptedPassword": True,
        }
        s = self.with_defaults(state)
        if s.get("password"):
            live["password"] = self._read_password(name, str(s["password"]), live["login"])
        outs = {**s, **live}
        return outs, self.live_inputs(inputs, live)

    def _read_password(self, name: str, state_password: str, can_login: bool) -> str:
        """The upstream's readRolePassword: the stored hash, unless it matches the state's."""
        if not can_login or not self.client.superuser:
            return state_password
        rows = self.client.rows(
            f"SELECT COALESCE(passwd, '') AS p FROM pg_catalog.pg_shadow WHERE usename = {quote_literal(name)}"
        )
        stored = str(rows[0]["p"]) if rows else ""
        if state_password and not state_password.startswith(("md5", "SCRAM-SHA-256")):
            if stored.startswith("SCRAM-SHA-256"):
                return state_password  # the upstream cannot check SCRAM either
            if stored.startswith("md5"):
                rows = self.client.rows(f"SELECT 'md5' || md5({quote_literal(state_password + name)}) AS h")
                if rows and rows[0]["h"] == stored:
                    return state_password
        return stored


# -- Database --------------------------------------------------------------------------------


class Database(PgResource):
    type_token = "postgresql:index/database:Database"
    replace_on: ClassVar[frozenset[str]] = frozenset({"template", "encoding", "lcCollate", "lcCtype"})
    computed: ClassVar[frozenset[str]] = frozenset(
        {"owner", "template", "encoding", "lcCollate", "lcCtype", "tablespaceName", "isTemplate"}
    )
    defaults: ClassVar[dict[str, Any]] = {
        "connectionLimit": -1,
        "allowConnections": True,
        "alterObjectOwnership": False,
    }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        news = super().check(olds, news)
        if not news.get("name"):
            raise ProviderError(f"{self.type_token}: `name` is required")
        return news

    @staticmethod
    def _option(keyword: str, value: str, literal: bool) -> str:
        if value.upper() == "DEFAULT":
            return f" {keyword} DEFAULT"
        return f" {keyword} {quote_literal(value) if literal else quote_ident(value)}"

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        if preview:
            return "", {**{k: UNKNOWN for k in self.computed}, **i}
        name = str(i["name"])
        sql = f"CREATE DATABASE {quote_ident(name)}"
        sql += f" OWNER {quote_ident(str(i.get('owner') or self.client.username))}"
        sql += self._option("TEMPLATE", str(i.get("template") or "template0"), literal=False)
        sql += self._option("ENCODING", str(i.get("encoding") or "UTF8"), literal=True)
        if i.get("lcCollate"):
            sql += self._option("LC_COLLATE", str(i["lcCollate"]), literal=True)
        if i.get("lcCtype"):
            sql += self._option("LC_CTYPE", str(i["lcCtype"]), literal=True)
        if i.get("tablespaceName"):
            sql += self._option("TABLESPACE", str(i["tablespaceName"]), literal=False)
        sql += f" ALLOW_CONNECTIONS {'true' if as_bool(i['allowConnections'], True) else 'false'}"
        sql += f" CONNECTION LIMIT {as_int(i['connectionLimit'], -1)}"
        sql += f" IS_TEMPLATE {'true' if as_bool(i.get('isTemplate'), False) else 'false'}"
        self.client.run(sql + ";\n", transaction=False)
        got = self.read(name, i, inputs)
        if got is None:
            raise ProviderError(f"{self.type_token}: database {name} not found after CREATE DATABASE")
        return name, got[0]

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        new = self.with_defaults(news)
        if preview:
            return {**state, **new}
        s = self.with_defaults(state)
        current, name = str(s.get("name") or id_), str(new["name"])
        db = self.client
        if name != current:
            db.run(
                f"ALTER DATABASE {quote_ident(current)} RENAME TO {quote_ident(name)};\n", transaction=False
            )
        owner = str(new.get("owner") or "")
        if owner and owner != s.get("owner"):
            if as_bool(new["alterObjectOwnership"], False) and s.get("owner"):
                db.run(f"REASSIGN OWNED BY {quote_ident(str(s['owner']))} TO {quote_ident(owner)};\n", name)
            db.run(f"ALTER DATABASE {quote_ident(name)} OWNER TO {quote_ident(owner)};\n", transaction=False)
        ident = quote_ident(name)
        if "tablespaceName" in news and news["tablespaceName"] != s.get("tablespaceName"):
            ts = str(news["tablespaceName"] or "")
            target = "RESET TABLESPACE" if ts in ("", "DEFAULT") else f"SET TABLESPACE {quote_ident(ts)}"
            db.run(f"ALTER DATABASE {ident} {target};\n", transaction=False)
        if new["connectionLimit"] != s.get("connectionLimit"):
            db.run(f"ALTER DATABASE {ident} CONNECTION LIMIT = {as_int(new['connectionLimit'], -1)};\n")
        if new["allowConnections"] != s.get("allowConnections"):
            allow = "true" if as_bool(new["allowConnections"], True) else "false"
            db.run(f"ALTER DATABASE {ident} ALLOW_CONNECTIONS {allow};\n")
        if "isTemplate" in news and news["isTemplate"] != s.get("isTemplate"):
            db.run(
                f"ALTER DATABASE {ident} IS_TEMPLATE {'true' if as_bool(news['isTemplate'], False) else 'false'};\n"
            )
        got = self.read(name, {**s, **new, "name": name}, news)
        if got is None:
            raise ProviderError(f"{self.type_token}: database {name} not found after the update")
        return got[0]

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        name = str(state.get("name") or id_)
        ident = quote_ident(name)
        db = self.client
        if not db.database_exists(name):
            return
        if as_bool(state.get("isTemplate"), False):
            db.run(f"ALTER DATABASE {ident} IS_TEMPLATE false;\n")
        db.run(f"ALTER DATABASE {ident} ALLOW_CONNECTIONS false;\n")
        db.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = {quote_literal(name)} AND pid <> pg_backend_pid();\n"
        )
        db.run(f"DROP DATABASE {ident} WITH ( FORCE );\n", transaction=False)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        name = str(state.get("name") or id_)
        rows = self.client.rows(
            "SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba) AS owner, "
            "pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype, "
            "ts.spcname, d.datconnlimit, d.datallowconn, d.datistemplate "
            "FROM pg_catalog.pg_database AS d, pg_catalog.pg_tablespace AS ts "
            f"WHERE d.datname = {quote_literal(name)} AND d.dattablespace = ts.oid"
        )
        if not rows:
            return None
        r = rows[0]
        live: dict[str, Any] = {
            "name": r["datname"],
            "owner": r["owner"],
            "encoding": r["encoding"],
            "lcCollate": r["datcollate"],
            "lcCtype": r["datctype"],
            "tablespaceName": r["spcname"],
            "connectionLimit": r["datconnlimit"],
            "allowConnections": bool(r["datallowconn"]),
            "isTemplate": bool(r["datistemplate"]),
            "template": state.get("template") or "template0",
        }
        outs = {**self.with_defaults(state), **live}
        return outs, self.live_inputs(inputs, live)


# -- Extension -------------------------------------------------------------------------------


class Extension(PgResource):
    type_token = "postgresql:index/extension:Extension"
    replace_on: ClassVar[frozenset[str]] = frozenset({"name", "database"})
    computed: ClassVar[frozenset[str]] = frozenset({"schema", "version", "database"})
    defaults: ClassVar[dict[str, Any]] = {"createCascade": False, "dropCascade": False}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        news = super().check(olds, news)
        if not news.get("name"):
            raise ProviderError(f"{self.type_token}: `name` is required")
        return news

    def _database(self, inputs: dict[str, Any]) -> str:
        return str(inputs.get("database") or self.client.database)

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        if preview:
            return "", {**{k: UNKNOWN for k in self.computed}, **i}
        database = self._database(i)
        sql = f"CREATE EXTENSION IF NOT EXISTS {quote_ident(str(i['name']))}"
        if i.get("schema"):
            sql += f" SCHEMA {quote_ident(str(i['schema']))}"
        if i.get("version"):
            sql += f" VERSION {quote_ident(str(i['version']))}"
        if as_bool(i["createCascade"], False):
            sql += " CASCADE"
        self.client.run(sql + ";\n", database)
        got = self.read("", {**i, "database": database}, inputs)
        if got is None:
            raise ProviderError(
                f"{self.type_token}: extension {i['name']} not found in {database} after CREATE"
            )
        return f"{database}.{i['name']}", got[0]

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        new = self.with_defaults(news)
        if preview:
            return {**state, **new}
        database = self._database({**state, **new})
        ext = quote_ident(str(new["name"]))
        stmts: list[str] = []
        if news.get("schema") and news["schema"] != state.get("schema"):
            stmts.append(f"ALTER EXTENSION {ext} SET SCHEMA {quote_ident(str(news['schema']))};")
        if "version" in news and news["version"] != state.get("version"):
            to = f" TO {quote_ident(str(news['version']))}" if news["version"] else ""
            stmts.append(f"ALTER EXTENSION {ext} UPDATE{to};")
        if stmts:
            self.client.run("\n".join(stmts) + "\n", database)
        got = self.read(id_, {**state, **new, "database": database}, news)
        if got is None:
            raise ProviderError(f"{self.type_token}: extension {new['name']} not found after the update")
        return got[0]

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        s = self.with_defaults(state)
        database = self._database(s)
        if not self.client.database_exists(database):
            return
        mode = "CASCADE" if as_bool(s["dropCascade"], False) else "RESTRICT"
        self.client.run(f"DROP EXTENSION {quote_ident(str(s['name']))} {mode};\n", database)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        database, name = state.get("database"), state.get("name")
        if not name:  # an import: the ID is database.name
            database, _, name = id_.partition(".")
        database = self._database({"database": database})
        if not self.client.database_exists(database):
            return None
        rows = self.client.rows(
            "SELECT e.extname, n.nspname, e.extversion FROM pg_catalog.pg_extension e, pg_catalog.pg_namespace n "
            f"WHERE n.oid = e.extnamespace AND e.extname = {quote_literal(str(name))}",
            database,
        )
        if not rows:
            return None
        r = rows[0]
        live = {
            "name": r["extname"],
            "schema": r["nspname"],
            "version": r["extversion"],
            "database": database,
        }
        outs = {**self.with_defaults(state), **live}
        return outs, self.live_inputs(inputs, live)


class PostgresqlProvider(Provider):
    package = "postgresql"
    resource_types = (Role, Database, Extension)

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config  # plain: base.py unwraps secret wrappers


PROVIDER = PostgresqlProvider
