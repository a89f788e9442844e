"""Day 0: from bare hosts (or an existing swarm) to a labelled, checked swarm, and the
placement table. It receives the placements from the stack plan and imports no layer.
`plan.py` is pure; `provision.py` builds it. See README "Day 0"."""
