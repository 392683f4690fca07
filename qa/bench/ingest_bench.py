"""Ingest throughput against the raw encoder (the limit) and a plain llama-index pipeline,
and an unchanged re-ingest against the first ingest; all in one run, same model."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.bench.corpora import write_abc_corpus
from qa.corpus.loaders import iter_files, load_file
from qa.index.embedding import Encoder
from qa.index.ingest import Ingestor, _embed_text
from qa.integrations.llama_index_peer import same_embedding
from qa.settings import Settings


def run(work: Path, encoder: Encoder, limit: int = 300) -> dict[str, Any]:
    corpus = write_abc_corpus(work / "abc", limit)
    index = work / "ingest-index"
    shutil.rmtree(index, ignore_errors=True)
    settings = Settings.load(index=index)
    ingestor = Ingestor(settings, encoder)
    first = ingestor.ingest([corpus], quiet=True)
    again = Ingestor(settings, encoder).ingest([corpus], quiet=True)

    texts = _chunk_texts(corpus, ingestor)
    started = time.perf_counter()
    encoder.encode_batch(texts)
    raw_seconds = time.perf_counter() - started

    li_chunks, li_seconds = _llama_index(corpus, encoder, settings, work / "li-chroma")
    ours = first.chunks_added / first.seconds
    raw = len(texts) / raw_seconds
    li = li_chunks / li_seconds if li_seconds else 0.0
    return {
        "articles": first.articles_added,
        "chunks": first.chunks_added,
        "ingest_seconds": first.seconds,
        "ingest_chunks_per_s": round(ours, 2),
        "raw_encoder_chunks_per_s": round(raw, 2),
        "llama_index_chunks": li_chunks,
        "llama_index_chunks_per_s": round(li, 2),
        "ratio_vs_raw_encoder": round(ours / raw, 3),
        "ratio_vs_llama_index": round(ours / li, 3) if li else None,
        "reingest_seconds": again.seconds,
        "reingest_speedup": round(first.seconds / max(again.seconds, 1e-6), 1),
    }


def _chunk_texts(corpus: Path, ingestor: Ingestor) -> list[str]:
    texts: list[str] = []
    for file, root in iter_files([corpus]):
        for article in load_file(file, root)[0]:
            texts.extend(_embed_text(c) for c in ingestor.chunker.chunk(article))
    return texts


def _llama_index(
    corpus: Path, encoder: Encoder, settings: Settings, path: Path
) -> tuple[int, float]:
    """`VectorStoreIndex.from_documents` into Chroma with the same model and chunk size."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    docs = []
    for file, root in iter_files([corpus]):
        for a in load_file(file, root)[0]:
            docs.append(Document(text=a.text, metadata={"title": a.title}, doc_id=a.id))
    tokenizer = encoder.model.tokenizer
    splitter = SentenceSplitter(
        chunk_size=settings.ingest.chunk_tokens,
        chunk_overlap=settings.ingest.chunk_overlap,
        tokenizer=lambda t: tokenizer.encode(t, add_special_tokens=False),
    )
    shutil.rmtree(path, ignore_errors=True)
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
    context = StorageContext.from_defaults(vector_store=store)
    started = time.perf_counter()
    VectorStoreIndex.from_documents(
        docs,
        storage_context=context,
        embed_model=same_embedding(encoder),
        transformations=[splitter],
    )
    seconds = time.perf_counter() - started
    return int(client.get_collection("baseline").count()), seconds


def main() -> None:
    encoder = Encoder()
    encoder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        for key, value in run(Path(tmp), encoder).items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
