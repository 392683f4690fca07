"""Grounding: is a sentence supported by the passages it cites?

One job: judge sentences against evidence (`Judge` is the role, `OfflineJudge` the default),
keep citation markers honest (`cite`, `markers`) and pick the passage sentences that bear on
a question (`focus`). May import `qa.text` and the base modules; never the index or a model
backend, so any answer from anywhere can be checked.
"""
