"""Benchmarks: a synthetic conflict history at chosen scales, and the figures it yields."""
