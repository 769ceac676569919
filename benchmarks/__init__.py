"""Benchmarks of the corpus build on a SYNTHETIC corpus (see benchmarks/README.md)."""
