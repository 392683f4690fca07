"""Benchmarks: each compares our path with a baseline measured in the same run."""
