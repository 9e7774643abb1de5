"""Benchmarks: ``python -m benchmarks`` runs every part (see results.py) and prints one table."""
