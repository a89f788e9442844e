"""The staging fleet's MCP connectors (the `single-node-prod` profile of agent-utilities'
deploy/mcp-fleet.registry.yml), one image each from images/<name>: the registry package's
era release (images/<name>/requirements.in, ERA, lock) in the pyapp shape, with the console
script as CMD (upstream's slim `mcp` target). Tagged agent-os-test/<name>:<version>: the
program names the registry's knucklessg1/<package>:latest (an images.overrides entry maps it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from components.fleet.plan import plan_connectors
from tools import mockrun

from ..recipe import TEST_REPO, Recipe
from .pyapp import python_app


@dataclass(frozen=True)
class Connector:
    """One registry entry, as the program runs it: `console_script` with PORT=`port`."""

    name: str
    console_script: str
    port: int  # the registry's container_port


def staging_connectors() -> tuple[Connector, ...]:
    """The connectors the staging stack deploys, read from the registry through the
    program's own planning (../shared/data/mcp-fleet.registry.yml; nothing restated here)."""
    _, selected, _ = plan_connectors(mockrun.stack_model("staging"))
    return tuple(Connector(c.name, c.console_script, c.container_port) for c in selected)


CONNECTORS: tuple[Connector, ...] = staging_connectors()


def connector_recipe(c: Connector) -> Recipe:
    app = python_app(c.name, __file__)
    version = app.alias.rpartition(":")[2]
    return replace(
        app, alias=f"{TEST_REPO}/{c.name}:{version}", config=replace(app.config, cmd=(c.console_script,))
    )


RECIPES: tuple[Recipe, ...] = tuple(connector_recipe(c) for c in CONNECTORS)
