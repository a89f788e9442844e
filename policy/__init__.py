"""The agent-os policy pack (pulumi-policy): pure rules in `rules.py`, adapter in `pack.py`."""
