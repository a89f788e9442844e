"""Every layer's HTTPS routes, computed from config before any resource exists."""

from __future__ import annotations

from .config import StackConfig
from .core.routes import core_routes
from .fleet import fleet_routes
from .swarm.routes import Route


def all_routes(cfg: StackConfig) -> list[Route]:
    routes: list[Route] = []
    routes += core_routes(cfg)
    routes += fleet_routes(cfg)
    return routes
