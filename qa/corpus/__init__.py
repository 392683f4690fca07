"""Articles from files: loaders per format (and the `qa.loaders` plugins), HTML main text,
chunking into passages with character offsets.

One job: turn files on disk into `Article`s and `Chunk`s. May import `qa.text` and the base
modules; knows nothing of the index or of answers.
"""
