"""Edge layer: Caddy (HTTPS ingress) and Technitium (authoritative .arpa DNS).
`plan.py` declares it (pure); `layer.py` builds it."""
