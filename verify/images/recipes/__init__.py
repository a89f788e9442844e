"""One module per image; RECIPES in the order build.py builds them. FAKES: the stand-ins
for the images no build is obtainable for (fakes.py; checked by tests/verify/test_verify_fakes.py,
used by staging through fakes.OVERRIDES)."""

from __future__ import annotations

from ..recipe import Recipe
from . import (
    agent_utilities,
    alertmanager,
    caddy,
    epistemic_graph,
    fakes,
    kafka,
    keycloak,
    mcp_connectors,
    node_exporter,
    openbao,
    postgres,
    prometheus,
    socat,
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        postgres.RECIPE,
        caddy.RECIPE,
        openbao.RECIPE,
        agent_utilities.RECIPE,
        epistemic_graph.RECIPE,
        keycloak.RECIPE,
        kafka.RECIPE,
        prometheus.RECIPE,
        alertmanager.RECIPE,
        node_exporter.RECIPE,
        socat.RECIPE,
        *mcp_connectors.RECIPES,
    )
}

FAKES: dict[str, Recipe] = {r.name: r for r in fakes.RECIPES}
