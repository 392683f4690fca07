"""Language tools: sentences, words, spaCy's parse, question analysis, instruction detection.

One job: say what a piece of text is (its sentences, content words, entities, the slot a
question asks for, whether a sentence is an order to a machine reader). Pure functions over
strings. May import only the base modules (`qa.errors`, `qa.types`).
"""
