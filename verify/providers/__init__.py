"""Deploying providers that speak the real provider protocol (see base.py for why)."""
