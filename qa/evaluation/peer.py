"""The peer in `qa eval`: a plain llama-index CitationQueryEngine with the same model.

`qa eval SET --llm llamacpp --llm citation-engine` asks both the same questions over the
same Chroma collection, with the same passage count (top_k), temperature, token limit and
GGUF weights. The peer has no chat memory, so a follow-up reaches it as the standalone
question qa's condenser wrote (the same text qa retrieves with). Its answer is shown as
it is (nothing is removed); qa's judge only scores it. A refusal is read from its text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from qa.answer.assistant import normalise_history
from qa.answer.condense import condense_rules
from qa.grounding import cite
from qa.grounding.judge import OfflineJudge
from qa.settings import Settings
from qa.types import Answer, ChatMessage, Passage, Timings

NAME = "citation-engine"
# How the peer says it cannot answer (its prompt asks it to "indicate" when no source helps).
_PEER_REFUSAL = re.compile(
    r"\bnone of the (?:provided )?(?:sources|passages)\b|\b(?:sources?|passages?|context)\b"
    r".{0,40}\b(?:do(?:es)? not|don't|doesn't|no)\b|\bnot (?:mentioned|provided|specified)\b"
    r"|\b(?:cannot|can't|unable to) (?:be )?(?:answer|determine|find)",
    re.IGNORECASE,
)


class CitationEnginePeer:
    """Answers like Assistant.answer(), through CitationQueryEngine.from_args()."""

    name = NAME

    def __init__(self, settings: Settings, encoder: Any, retriever: Any) -> None:
        from llama_cpp import Llama
        from llama_index.core import VectorStoreIndex
        from llama_index.core.query_engine import CitationQueryEngine
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from qa.integrations.llama_index_peer import same_embedding, same_llm
        from qa.models import resolve_gguf

        self.settings = settings
        llama = Llama(
            model_path=str(resolve_gguf(settings.model.llm_model)),
            n_ctx=settings.model.n_ctx,
            verbose=False,
        )
        index = VectorStoreIndex.from_vector_store(
            ChromaVectorStore(chroma_collection=retriever.store.collection),
            embed_model=same_embedding(encoder),
        )
        llm = same_llm(
            llama, temperature=settings.model.temperature, max_tokens=settings.model.max_tokens
        )
        self.engine = CitationQueryEngine.from_args(
            index, llm=llm, similarity_top_k=settings.answer.top_k
        )
        self.judge = OfflineJudge(encoder)

    def answer(self, question: str, *, history: Sequence[ChatMessage] = ()) -> Answer:
        standalone = condense_rules(question, normalise_history(list(history)))
        started = time.perf_counter()
        response = self.engine.query(standalone)
        total = time.perf_counter() - started
        text = str(getattr(response, "response", "") or "").strip()
        passages = tuple(_passage(i, node) for i, node in enumerate(response.source_nodes, 1))
        refused = not text or bool(_PEER_REFUSAL.search(text)) or cite.is_refusal(text)
        sentences = () if refused else tuple(cite.check(text, passages, self.judge, standalone))
        return Answer(
            question=question,
            standalone_query=standalone,
            text=text,
            refused=refused,
            sentences=sentences,
            citations=(),
            passages=passages,
            model=NAME,
            timings=Timings(0.0, round(total, 4), round(total, 4)),
            raw_text=text,
            refusal_reason="the peer says no source helps" if refused else "",
        )


def _passage(n: int, node: Any) -> Passage:
    meta = node.node.metadata or {}
    body = re.sub(r"^Source \d+:\s*", "", node.node.get_content())
    return Passage(
        n=n,
        chunk_id=str(node.node.node_id),
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published", "")),
        url=str(meta.get("url", "")),
        text=body,
        start=int(meta.get("start", 0) or 0),
        end=int(meta.get("end", 0) or 0),
        score=float(node.score or 0.0),
        dense_similarity=float(node.score or 0.0),
    )
