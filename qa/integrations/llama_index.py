"""qa as llama-index components (needs the `llamaindex` extra: `pip install 'qa-news[llamaindex]'`).

- `QARetriever`: qa's hybrid retrieval (dense + BM25, wire copies collapsed, injected
  instructions blanked) as a `BaseRetriever`; nodes carry title, outlet, date, url, article id
  and the passage's character offsets in its article.
- `CheckedQueryEngine`, `CheckedChatEngine`: qa's checked answers (every sentence supported by
  the passage it cites) as a query engine and a chat engine; `source_nodes` are the cited
  passages and marker [i] names `source_nodes[i - 1]`; streaming yields checked sentences.
- `check_response(response)`: qa's sentence checker applied to any llama-index response with
  `source_nodes` (a `CitationQueryEngine`'s, say): which sentences its sources support.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.llms.types import ChatMessage as LIChatMessage
    from llama_index.core.base.llms.types import ChatResponse, MessageRole
    from llama_index.core.base.response.schema import Response, StreamingResponse
    from llama_index.core.chat_engine.types import (
        AgentChatResponse,
        BaseChatEngine,
        StreamingAgentChatResponse,
    )
    from llama_index.core.memory import ChatMemoryBuffer
    from llama_index.core.query_engine import CustomQueryEngine
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "qa.integrations.llama_index needs llama-index: pip install 'qa-news[llamaindex]'"
    ) from exc

from qa.answer.assistant import AnswerStream, Assistant
from qa.grounding import cite, markers
from qa.grounding.judge import OfflineJudge
from qa.index.embedding import Encoder
from qa.retrieval.hybrid import Filters
from qa.settings import Settings
from qa.text.hostile import screen
from qa.types import Answer, FlaggedText, Passage, Sentence

# What the model reads of a node's metadata; ids and offsets are for the program.
_NOT_FOR_THE_MODEL = [
    "article_id",
    "chunk_id",
    "start",
    "end",
    "url",
    "passage",
    "flagged",
    "also_in",
]
# CitationQueryEngine numbers its chunks "Source 1:\n..."; the checker reads the text only.
_SOURCE_LABEL = re.compile(r"\A\s*Source \d+:\s*\n?")


def passage_node(passage: Passage, flagged: Sequence[FlaggedText] = ()) -> NodeWithScore:
    """A qa passage as a llama-index node (its score is the fused retrieval score)."""
    metadata = {
        "title": passage.title,
        "outlet": passage.source,
        "date": passage.published,
        "url": passage.url,
        "article_id": passage.article_id,
        "chunk_id": passage.chunk_id,
        "start": passage.start,
        "end": passage.end,
        "passage": passage.n,  # its number in qa's own answer and citations
        "flagged": [{"text": f.text, "reason": f.reason} for f in flagged if f.n == passage.n],
        "also_in": [r.source for r in passage.also_in],
    }
    node = TextNode(
        id_=passage.chunk_id,
        text=passage.text,
        metadata=metadata,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        excluded_llm_metadata_keys=list(_NOT_FOR_THE_MODEL),
        excluded_embed_metadata_keys=list(_NOT_FOR_THE_MODEL),
    )
    return NodeWithScore(node=node, score=passage.score)


class QARetriever(BaseRetriever):
    """`QARetriever(index="index/")`, or `QARetriever(assistant)` to share loaded models.

    With `screen` (the default) text addressed to an assistant is blanked in the node's text
    (offsets kept) and listed under `metadata["flagged"]`, so no downstream LLM reads it.
    """

    def __init__(
        self,
        assistant: Assistant | None = None,
        *,
        index: str | Path | None = None,
        top_k: int | None = None,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
        screen: bool = True,
        **options: Any,
    ) -> None:
        super().__init__()
        self.assistant = assistant or Assistant(llm="extractive", index=index, **options)
        self.top_k = top_k or self.assistant.settings.answer.top_k
        self.filters = Filters(tuple(sources), date_from, date_to)
        self.screen = screen

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = self.assistant.retriever.retrieve(query_bundle.query_str, self.top_k, self.filters)
        passages, flagged = found.passages, tuple[FlaggedText, ...]()
        if self.screen:
            passages, flagged = screen(passages)
        return [passage_node(p, flagged) for p in passages]


def _answer_metadata(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer,
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "notice": answer.notice,
        "citations": [dataclasses.asdict(c) for c in answer.citations],
        "nearest": [dataclasses.asdict(a) for a in answer.nearest],
        "model": answer.model,
    }


class Renumber:
    """llama-index's convention: marker [i] names `source_nodes[i - 1]`. qa numbers markers
    by retrieved passage; this renumbers them by first appearance, piece by piece."""

    def __init__(self) -> None:
        self.order: dict[int, int] = {}  # qa passage n -> marker in the response

    def __call__(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            new = [
                str(self.order.setdefault(n, len(self.order) + 1))
                for n in markers.numbers(match.group(1))
            ]
            return f"[{', '.join(new)}]"

        return markers.MARKER.sub(one, text)

    def nodes(self, answer: Answer) -> list[NodeWithScore]:
        """The cited passages in the order of their new numbers (none for a refusal)."""
        by_n = {p.n: p for p in answer.passages}
        return [passage_node(by_n[n], answer.flagged) for n in self.order if n in by_n]


def _respond(answer: Answer) -> tuple[str, list[NodeWithScore], dict[str, Any]]:
    renumber = Renumber()
    text = renumber(answer.text)
    return text, renumber.nodes(answer), _answer_metadata(answer)


def _stream_into(
    stream: AnswerStream, nodes: list[NodeWithScore], metadata: dict[str, Any]
) -> Generator[str, None, None]:
    """The checked text; once it ends, `nodes` and `metadata` hold the answer's."""
    renumber = Renumber()
    for piece in stream:
        if piece:
            yield renumber(piece)
    answer = stream.result()
    nodes.extend(renumber.nodes(answer))
    metadata.update(_answer_metadata(answer))


class CheckedQueryEngine(CustomQueryEngine):
    """qa's checked answers as a llama-index query engine.

    `CheckedQueryEngine.from_args(index="index/", llm="llamacpp")`; `response.source_nodes`
    are the cited passages, `response.metadata["answer"]` the full `qa` Answer. With
    `streaming=True` the response streams checked sentences; its source nodes and metadata
    are filled when the stream ends.
    """

    assistant: Any
    streaming: bool = False
    top_k: int | None = None

    @classmethod
    def from_args(
        cls, *, streaming: bool = False, top_k: int | None = None, **options: Any
    ) -> CheckedQueryEngine:
        """`options` go to `Assistant` (llm=, index=, and any setting)."""
        return cls(assistant=Assistant(**options), streaming=streaming, top_k=top_k)

    def custom_query(self, query_str: str) -> Response | StreamingResponse:
        stream = self.assistant.stream(query_str, top_k=self.top_k, checked=self.streaming)
        if self.streaming:
            nodes: list[NodeWithScore] = []
            metadata: dict[str, Any] = {}
            return StreamingResponse(_stream_into(stream, nodes, metadata), nodes, metadata)
        return Response(*_respond(stream.result()))


def _as_history(messages: Sequence[LIChatMessage]) -> list[dict[str, str]]:
    roles = {MessageRole.USER: "user", MessageRole.ASSISTANT: "assistant"}
    return [
        {"role": roles[m.role], "content": m.content or ""} for m in messages if m.role in roles
    ]


class CheckedChatEngine(BaseChatEngine):
    """qa's checked answers as a llama-index chat engine: follow-ups are condensed with the
    history the engine keeps (or the `chat_history` passed in)."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        memory: ChatMemoryBuffer | None = None,
        top_k: int | None = None,
    ) -> None:
        self.assistant = assistant
        self.top_k = top_k
        self._memory = memory or ChatMemoryBuffer.from_defaults(token_limit=100_000)

    @classmethod
    def from_args(cls, *, top_k: int | None = None, **options: Any) -> CheckedChatEngine:
        return cls(Assistant(**options), top_k=top_k)

    @property
    def chat_history(self) -> list[LIChatMessage]:
        return self._memory.get_all()

    def reset(self) -> None:
        self._memory.reset()

    def _start(self, message: str, chat_history: list[LIChatMessage] | None) -> AnswerStream:
        if chat_history is not None:
            self._memory.set(chat_history)
        history = _as_history(self._memory.get_all())
        stream = self.assistant.stream(message, history=history, top_k=self.top_k, checked=True)
        self._memory.put(LIChatMessage(role=MessageRole.USER, content=message))
        return stream

    def chat(
        self, message: str, chat_history: list[LIChatMessage] | None = None
    ) -> AgentChatResponse:
        text, nodes, metadata = _respond(self._start(message, chat_history).result())
        self._memory.put(LIChatMessage(role=MessageRole.ASSISTANT, content=text))
        return AgentChatResponse(response=text, source_nodes=nodes, metadata=metadata)

    def stream_chat(
        self, message: str, chat_history: list[LIChatMessage] | None = None
    ) -> StreamingAgentChatResponse:
        stream = self._start(message, chat_history)
        nodes: list[NodeWithScore] = []
        metadata: dict[str, Any] = {}

        def chat_stream() -> Generator[ChatResponse, None, None]:
            text = ""
            for delta in _stream_into(stream, nodes, metadata):
                text += delta
                yield ChatResponse(
                    message=LIChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta
                )

        response = StreamingAgentChatResponse(chat_stream=chat_stream(), source_nodes=nodes)
        response.metadata = metadata  # type: ignore[attr-defined]  # filled when it ends

        thread = threading.Thread(target=response.write_response_to_history, args=(self._memory,))
        response.write_response_to_history_thread = thread
        thread.start()
        return response

    async def achat(
        self, message: str, chat_history: list[LIChatMessage] | None = None
    ) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(
        self, message: str, chat_history: list[LIChatMessage] | None = None
    ) -> StreamingAgentChatResponse:
        stream = await asyncio.to_thread(self._start, message, chat_history)
        nodes: list[NodeWithScore] = []
        metadata: dict[str, Any] = {}
        pieces = _stream_into(stream, nodes, metadata)

        async def achat_stream() -> AsyncGenerator[ChatResponse, None]:
            text = ""
            while True:
                delta = await asyncio.to_thread(next, pieces, None)
                if delta is None:
                    return
                text += delta
                yield ChatResponse(
                    message=LIChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta
                )

        response = StreamingAgentChatResponse(achat_stream=achat_stream(), source_nodes=nodes)
        response.metadata = metadata  # type: ignore[attr-defined]
        response.awrite_response_to_history_task = asyncio.create_task(
            response.awrite_response_to_history(self._memory)
        )
        return response


@dataclass(frozen=True)
class CheckedResponse:
    """What qa's checker found in a response: each sentence with the sources it cites (1-based,
    as the response's markers count them) and whether they support it."""

    sentences: tuple[Sentence, ...]
    text: str  # the supported sentences only, with their markers

    @property
    def supported(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if s.supported)

    @property
    def unsupported(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if not s.supported)

    @property
    def all_supported(self) -> bool:
        return bool(self.sentences) and not self.unsupported


_JUDGES: dict[str, OfflineJudge] = {}


def _default_judge() -> OfflineJudge:
    if "offline" not in _JUDGES:
        settings = Settings.load()
        _JUDGES["offline"] = OfflineJudge(Encoder.of(settings.embedding))
    return _JUDGES["offline"]


def source_passages(source_nodes: Sequence[NodeWithScore]) -> tuple[Passage, ...]:
    """A response's source nodes as numbered passages: [1] is the first node."""
    out = []
    for i, item in enumerate(source_nodes, 1):
        node = item.node
        meta = node.metadata or {}
        text = _SOURCE_LABEL.sub("", node.get_content())
        start = int(meta.get("start", getattr(node, "start_char_idx", 0) or 0) or 0)
        out.append(
            Passage(
                n=i,
                chunk_id=str(meta.get("chunk_id", node.node_id)),
                article_id=str(meta.get("article_id", node.ref_doc_id or node.node_id)),
                title=str(meta.get("title", "")),
                source=str(meta.get("outlet", meta.get("source", ""))),
                published=str(meta.get("date", meta.get("published", ""))),
                url=str(meta.get("url", "")),
                text=text,
                start=start,
                end=start + len(text),
                score=float(item.score or 0.0),
                dense_similarity=float(item.score or 0.0),
            )
        )
    return tuple(out)


def check_response(
    response: Any, query: str = "", *, judge: Any = None, mode: str = "drop"
) -> CheckedResponse:
    """Check a llama-index response (`Response`, `StreamingResponse` after it is read,
    `AgentChatResponse`) against its own `source_nodes`, as qa checks its answers.

    `query` (the question asked) lets short answers ("Li Shangfu [1]") be judged with it.
    `mode="flag"` keeps unsupported sentences in `text`, marked "(unsupported)".
    """
    text = str(getattr(response, "response", None) or response)
    passages = source_passages(getattr(response, "source_nodes", None) or [])
    sentences = cite.check(text, passages, judge or _default_judge(), query)
    return CheckedResponse(tuple(sentences), cite.render(sentences, mode))
