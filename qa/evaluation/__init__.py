"""Grounding evaluation (`qa eval`): eval sets, metrics, judges, runner, report, RGB.

Measures what a user gets, the rendered page included, so it may import every package but
`qa.bench` and `qa.commands`.
"""
