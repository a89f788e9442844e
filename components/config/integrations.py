"""Integration toggles: every optional subsystem is switched here."""

from __future__ import annotations

from .base import ConfigModel


class Integrations(ConfigModel):
    keycloak: bool = True
    openbao: bool = True
    portainer: bool = True
    lgtm: bool = True
    kafka: bool = True
    langfuse: bool = False
    gitops: bool = False
    registry: bool = False
    # With keycloak off nothing verifies a JWT: the REST/MCP APIs and the connectors answer
    # anyone who reaches them. The stack must say it accepts that.
    allow_unauthenticated: bool = False
