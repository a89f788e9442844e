"""SQL the program runs on Postgres (pure strings; executed on a real Postgres in tests)."""

from __future__ import annotations


def quote_literal(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def create_graph_sql(graph: str) -> str:
    """Idempotent: create the AGE graph unless it exists (LOAD needs a superuser)."""
    g = quote_literal(graph)
    return (
        "LOAD 'age';\n"
        'SET search_path = ag_catalog, "$user", public;\n'
        f"SELECT ag_catalog.create_graph({g})\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM ag_catalog.ag_graph WHERE name = {g});\n"
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
