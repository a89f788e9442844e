"""agent-utilities (python -m agent_utilities, graph-os) from images/agent-utilities."""

from __future__ import annotations

from .pyapp import python_app

RECIPE = python_app("agent-utilities", __file__)
