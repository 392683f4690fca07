"""Answering: the `Assistant` that runs the flow question -> condense -> retrieve -> gate ->
prompt -> model -> checked answer, and its parts (condenser, refusal gate, prompts).

One job: assemble the lower packages into an answer. May import every package below it
(`qa.text`, `qa.corpus`, `qa.index`, `qa.retrieval`, `qa.grounding`, `qa.backends`) and the
base modules; nothing below imports it.
"""
