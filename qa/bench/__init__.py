"""Benchmarks and the soak run: each compares our path with a baseline measured in the same
run and prints figures (never asserted in tests).

May import everything except `qa.commands`.
"""
