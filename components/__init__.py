"""agent-os layers: foundation, edge, data, core, fleet."""
