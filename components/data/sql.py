"""SQL the program runs on Postgres (pure strings; executed on a real Postgres in tests)."""

from __future__ import annotations

import re


def quote_literal(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def quote_ident(v: str) -> str:
    """An SQL identifier: as is when it is a plain lower-case name, else double-quoted."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", v):
        return v
    return '"' + v.replace('"', '""') + '"'


def create_graph_sql(graph: str, app_role: str) -> str:
    """Idempotent: create the AGE graph unless it exists (LOAD needs a superuser), then hand
    it to the app's role: a new label is a table that inherits the graph's base tables, so
    only their owner can make one ("must be owner of table _ag_label_vertex"); AGE's catalog
    it may use and record its labels in. Tables only: a table's sequences follow it."""
    g = quote_literal(graph)
    schema, role = quote_ident(graph), quote_ident(app_role)
    return (
        "LOAD 'age';\n"
        'SET search_path = ag_catalog, "$user", public;\n'
        f"SELECT ag_catalog.create_graph({g})\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM ag_catalog.ag_graph WHERE name = {g});\n"
        f"GRANT USAGE ON SCHEMA ag_catalog TO {role};\n"
        f"GRANT SELECT, INSERT, UPDATE ON ag_catalog.ag_label TO {role};\n"
        f"ALTER SCHEMA {schema} OWNER TO {role};\n"
        "DO $own$\nDECLARE r record;\nBEGIN\n"
        "  FOR r IN SELECT c.relname FROM pg_class c\n"
        "           JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        f"           WHERE n.nspname = {g} AND c.relkind IN ('r', 'p') LOOP\n"
        # A table's own sequences follow it (they cannot change owner alone).
        "    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I',\n"
        f"                   {g}, r.relname, {quote_literal(app_role)});\n"
        "  END LOOP;\nEND\n$own$;\n"
        # The graph's own sequences (e.g. _label_id_seq) belong to no table.
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role};\n"
    )


def tenant_rls_sql() -> str:
    """platform.md §6, deploy/postgres/tenant_rls.sql: idempotent tenant isolation on every
    table in current_schema() except pg_%/sql_%. Run as table owner, after the app made its
    tables, in each database."""
    return r"""DO $rls$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND c.relname NOT LIKE 'pg\_%' AND c.relname NOT LIKE 'sql\_%'
  LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS tenant_id TEXT', t.relname);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.relname);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t.relname);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING ('
      '  coalesce(current_setting(''app.tenant_id'', true), '''') <> '''''
      '  AND (tenant_id IS NULL OR tenant_id = '''' '
      '       OR tenant_id = current_setting(''app.tenant_id'', true))'
      ') WITH CHECK ('
      '  coalesce(current_setting(''app.tenant_id'', true), '''') <> '''''
      '  AND (tenant_id IS NULL OR tenant_id = '''' '
      '       OR tenant_id = current_setting(''app.tenant_id'', true))'
      ')', t.relname);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (tenant_id)',
                   'idx_' || t.relname || '_tenant', t.relname);
  END LOOP;
END
$rls$;
"""
