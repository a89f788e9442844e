"""Every layer's HTTPS routes, computed from config before any resource exists."""

from __future__ import annotations

from .config import StackConfig
from .swarm.routes import Route


def all_routes(cfg: StackConfig) -> list[Route]:
    routes: list[Route] = []
    return routes
