"""Fleet layer: the agent-utilities tier, the MCP connector fleet, the UIs.
`plan.py` declares it (pure); `tier.py` renders the processes; `layer.py` builds it."""
