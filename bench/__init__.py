"""Benchmarks: `python bench/intake.py` (see docs/PERFORMANCE.md)."""
