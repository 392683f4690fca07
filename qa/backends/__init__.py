"""Chat backends: one module per backend, `<Backend>ChatModel`, chosen by name in `registry`
(entry-point group `qa.backends`, the built-in ones too).

One job: turn a `ChatRequest` (question, passages, history) into streamed text. May import
`qa.grounding` and `qa.text` (the extractive backend answers by selecting passage sentences)
and the base modules; never `qa.answer`, `qa.index` or anything above.
"""
