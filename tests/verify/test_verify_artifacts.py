"""Generated artifacts checked by the real tools that read them (verify/artifacts.py),
and the SQL the program runs executed on a real PostgreSQL (verify/pgsql.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from components.data.sql import tenant_rls_sql
from tests.conftest import STACKS, evaluate
from verify import artifacts, pgsql

pytestmark = pytest.mark.artifacts


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (tools/ci-setup.sh installs it)")


TOOLS = {
    "caddyfile": "caddy",
    "prometheus-config": "promtool",
    "prometheus-rules": "promtool",
    "alertmanager": "amtool",
    "openbao-hcl": "python",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_artifact_passes_its_real_validator(stack: str) -> None:
    run = evaluate(stack)
    found = [(n, artifacts.kind_of(n, c)) for n, c in artifacts.configs(run)]
    kinds = {k for _, k in found if k}
    assert "caddyfile" in kinds  # the edge layer always renders one
    for tool in {TOOLS[k] for k in kinds}:
        need(tool)
    results = artifacts.validate_run(run)
    print(f"\n{stack}: {len(results)} artifacts validated: " + ", ".join(f"{n} ({k})" for n, k, _ in results))
    bad = [f"{n} ({k}):\n{r.output[-1500:]}" for n, k, r in results if not r.ok]
    assert not bad, "\n\n".join(bad)


GOOD_CADDYFILE = """{
\tadmin off
\tlocal_certs
}
app.example.arpa {
\ttls internal
\treverse_proxy app:8080
}
"""


def test_caddyfile_validator_good_and_typo() -> None:
    need("caddy")
    assert artifacts.check_caddyfile(GOOD_CADDYFILE).ok
    bad = artifacts.check_caddyfile(GOOD_CADDYFILE.replace("reverse_proxy", "reverse_proxyy"))
    assert not bad.ok and "reverse_proxyy" in bad.output


def test_rendered_caddyfile_with_a_typo_fails() -> None:
    need("caddy")
    content = dict(artifacts.configs(evaluate("staging")))["caddyfile"]
    assert not artifacts.check_caddyfile(content.replace("lb_policy", "lb_polcy", 1)).ok


GOOD_RULES = """groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 5m
"""


def test_prometheus_rules_validator_good_and_bad_promql() -> None:
    need("promtool")
    assert artifacts.check_prometheus_rules(GOOD_RULES).ok
    bad = artifacts.check_prometheus_rules(GOOD_RULES.replace("up == 0", "rate(up[5m] == 0"))
    assert not bad.ok and "parse error" in bad.output


def test_prometheus_config_validator_good_and_bad() -> None:
    need("promtool")
    good = "global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: p\n  static_configs:\n  - targets: [a:9090]\n"
    assert artifacts.check_prometheus_config(good).ok
    assert not artifacts.check_prometheus_config(
        good.replace("scrape_interval: 15s", "scrape_interval: soon")
    ).ok


def test_alertmanager_validator_good_and_bad() -> None:
    need("amtool")
    good = "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x:9/\n"
    assert artifacts.check_alertmanager(good).ok
    assert not artifacts.check_alertmanager(good.replace("receiver: r", "receiver: nobody")).ok


def test_openbao_hcl_validator_good_and_bad() -> None:
    good = (
        'storage "raft" {\n  path = "/openbao/data"\n  node_id = "bao-1"\n}\n'
        'listener "tcp" {\n  address = "0.0.0.0:8200"\n}\n'
        'api_addr = "http://bao-1:8200"\ncluster_addr = "http://bao-1:8201"\n'
    )
    assert artifacts.check_openbao_hcl(good).ok
    assert not artifacts.check_openbao_hcl(good.replace('listener "tcp"', "#")).ok
    assert not artifacts.check_openbao_hcl(good.replace("}\n", "", 1)).ok


# -- SQL on a real PostgreSQL -------------------------------------------------------------
@pytest.fixture(scope="module")
def pg() -> Iterator[pgsql.Server]:
    try:
        with pgsql.server() as srv:
            yield srv
    except pgsql.PostgresUnavailableError as e:
        pytest.skip(str(e))


def _reset(srv: pgsql.Server, applied: pgsql.Applied) -> None:
    for db in applied.databases:
        srv.ok(f"DROP DATABASE IF EXISTS {pgsql.ident(db)} WITH (FORCE);")
    for role in applied.roles:
        srv.ok(f"DROP ROLE IF EXISTS {pgsql.ident(role)};")


@pytest.mark.parametrize("stack", STACKS)
def test_roles_databases_extensions_execute(pg: pgsql.Server, stack: str) -> None:
    run = evaluate(stack)
    applied = pgsql.apply_run(pg, run)
    try:
        print(f"\n{stack}: {applied}")
        assert applied.roles and applied.databases
        owners = pg.ok("SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database").split()
        for r in (r for r in run.resources if r.type == "postgresql:index/database:Database"):
            assert f"{r.plain['name']}:{r.plain['owner']}" in owners
        for role in applied.roles:
            assert pg.ok(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = {pgsql.literal(role)}") == "t"
        # AGE is not packaged by Debian; anything else the program asks for must exist.
        assert {u.split("@")[0] for u in applied.unavailable} <= {"age", "vector"}
    finally:
        _reset(pg, applied)


def test_tenant_rls_hides_rows_without_tenant(pg: pgsql.Server) -> None:
    db = "rls_check"
    pg.ok("CREATE ROLE app_owner LOGIN; CREATE ROLE app_reader LOGIN;")
    pg.ok(f"CREATE DATABASE {db} OWNER app_owner;")
    try:
        pg.ok(
            "CREATE TABLE notes (id int PRIMARY KEY, body text);"
            "CREATE TABLE pg_skipped (id int);"
            "GRANT SELECT, INSERT ON notes TO app_reader;",
            db=db,
            user="app_owner",
        )
        sql = tenant_rls_sql()
        pg.ok(sql, db=db, user="app_owner")
        pg.ok(sql, db=db, user="app_owner")  # idempotent
        pg.ok(
            "SET app.tenant_id = 't1'; INSERT INTO notes VALUES (1, 'a', 't1');"
            "SET app.tenant_id = 't2'; INSERT INTO notes VALUES (2, 'b', 't2');"
            "SET app.tenant_id = 't1'; INSERT INTO notes VALUES (3, 'shared', NULL);",
            db=db,
            user="app_owner",
        )
        for user in ("app_owner", "app_reader"):  # FORCE: the owner is filtered too
            assert pg.ok("SELECT count(*) FROM notes", db=db, user=user) == "0"
            assert pg.ok("SET app.tenant_id = ''; SELECT count(*) FROM notes", db=db, user=user) == "0"
            seen = pg.ok(
                "SET app.tenant_id = 't1'; SELECT string_agg(id::text, ',' ORDER BY id) FROM notes",
                db=db,
                user=user,
            )
            assert seen == "1,3"
        # WITH CHECK: a tenant cannot write another tenant's row.
        p = pg.psql(
            "SET app.tenant_id = 't1'; INSERT INTO notes VALUES (4, 'x', 't2');", db=db, user="app_reader"
        )
        assert p.returncode != 0 and "row-level security" in p.stderr
        assert pg.ok(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'notes' AND indexname = 'idx_notes_tenant'",
            db=db,
        )
        assert pg.ok("SELECT count(*) FROM pg_policies WHERE tablename = 'pg_skipped'", db=db) == "0"
    finally:
        pg.ok(
            f"DROP DATABASE IF EXISTS {db} WITH (FORCE); DROP ROLE IF EXISTS app_owner; DROP ROLE IF EXISTS app_reader;"
        )


def test_rls_check_fails_when_the_policy_is_broken(pg: pgsql.Server) -> None:
    """The RLS check above must be able to fail: a policy without the non-empty guard leaks."""
    db = "rls_broken"
    pg.ok("CREATE ROLE broken_owner LOGIN;")
    pg.ok(f"CREATE DATABASE {db} OWNER broken_owner;")
    try:
        pg.ok("CREATE TABLE t (id int);", db=db, user="broken_owner")
        broken = tenant_rls_sql().replace(
            "coalesce(current_setting(''app.tenant_id'', true), '''') <> '''''\n      '  AND ", ""
        )
        assert broken != tenant_rls_sql()
        pg.ok(broken, db=db, user="broken_owner")
        pg.ok("INSERT INTO t VALUES (1, NULL);", db=db, user="broken_owner")
        assert pg.ok("SELECT count(*) FROM t", db=db, user="broken_owner") != "0"  # leaks without tenant
    finally:
        pg.ok(f"DROP DATABASE IF EXISTS {db} WITH (FORCE); DROP ROLE IF EXISTS broken_owner;")
