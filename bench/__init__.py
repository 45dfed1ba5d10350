"""Benchmarks, run as scripts: python bench/NAME.py (not part of make test)."""
