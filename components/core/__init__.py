"""Core layer: OpenBao, Keycloak, Portainer, LGTM. `plan.py` declares it (pure);
`layer.py` builds it."""
