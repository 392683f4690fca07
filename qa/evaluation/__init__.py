"""Grounding evaluation: eval sets, metrics, judges, runner, report and RGB."""
