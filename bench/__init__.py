"""Benchmarks: `python -m bench` (results: bench/results/, never committed)."""
