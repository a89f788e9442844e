"""Print the pinned agent-utilities' own HTTP route tables as JSON (run with the app env's
Python: `tools.appenv build`). Nothing is served and no engine is started: the apps are
constructed the way their entry points construct them, then their routes are listed.

    {"gateway": [["GET", "/health"], ...], "graph-os": [...]}

`gateway` is `python -m agent_utilities` (the REST gateway and, with KG_DAEMON_ROLE=host,
the KG host daemon: the same app); `graph-os` is the MCP server over streamable-http.
"""

# Runs with the app env's interpreter, where agent_utilities is installed; the imports sit
# in functions because the package reads its environment at import time (see _isolate).
# pyright: reportMissingImports=false
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any


def _isolate() -> tempfile.TemporaryDirectory[str]:
    home = tempfile.TemporaryDirectory(prefix="agent-os-routes-", ignore_cleanup_errors=True)
    os.environ["HOME"] = home.name
    os.environ["XDG_RUNTIME_DIR"] = home.name
    os.environ["AGENT_UTILITIES_RUNTIME_DIR"] = home.name
    os.environ["WORKSPACE_PATH"] = home.name
    os.environ["EPISTEMIC_GRAPH_AUTOSTART"] = "0"  # never spawn an engine
    os.environ["KG_DAEMON_ROLE"] = "client"  # never take the host lock
    logging.disable(logging.CRITICAL)
    return home


def _flatten(routes: Iterable[Any]) -> Iterator[Any]:
    """FastAPI keeps include_router() entries lazily; expand them to their real routes."""
    for r in routes:
        contexts = getattr(r, "effective_route_contexts", None)
        if contexts is None:
            yield r
            continue
        for ctx in contexts():
            yield getattr(ctx, "starlette_route", None) or ctx


def _rows(routes: Iterable[Any]) -> list[list[str]]:
    rows: set[tuple[str, str]] = set()
    for r in _flatten(routes):
        path = getattr(r, "path", "")
        methods = getattr(r, "methods", None)
        if methods:
            rows.update((m, path) for m in methods)
        else:
            rows.add(("MOUNT" if type(r).__name__ == "Mount" else "ANY", path))
    return [list(x) for x in sorted(rows, key=lambda t: (t[1], t[0]))]


def gateway_routes() -> list[list[str]]:
    from agent_utilities.server.app import build_agent_app

    app = build_agent_app(
        provider="openai",
        model_id="route-table",
        base_url="http://127.0.0.1:9/v1",
        api_key="unused",
        mcp_url="",
        enable_web_ui=False,
        enable_acp=False,
        enable_otel=False,
        a2a_config=None,
    )
    return _rows(app.routes)


def graph_os_routes() -> list[list[str]]:
    from agent_utilities.mcp import kg_server

    _args, mcp, _middlewares = kg_server._build_server(bootstrap=False)
    return _rows(mcp.http_app(transport="streamable-http").routes)


if __name__ == "__main__":
    home = _isolate()
    out = {"gateway": gateway_routes(), "graph-os": graph_os_routes()}
    sys.stdout.write(json.dumps(out) + "\n")
    home.cleanup()
