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
