"""epistemic-graph (epistemic-graph-server) from images/epistemic-graph."""

from __future__ import annotations

from .pyapp import python_app

RECIPE = python_app("epistemic-graph", __file__)
