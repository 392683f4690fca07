"""qa's parts inside other frameworks (`llama_index`: a retriever, checked query and chat
engines, and the sentence checker for any llama-index response). May import all of `qa`;
nothing in `qa` imports it."""
