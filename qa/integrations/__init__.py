"""qa's parts inside other frameworks. `llama_index`: a retriever, checked query and chat
engines, and the sentence checker for any llama-index response; `llama_index_peer`: qa's
loaded models as llama-index objects, for the plain CitationQueryEngine that the evaluation
and the benchmarks compare with. May import `qa.answer` and everything below it; only
`qa.evaluation`, `qa.bench` and `qa.commands` import it.
"""
