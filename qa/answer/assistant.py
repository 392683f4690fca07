"""The answering core: question (+ history) -> standalone query -> passages -> model ->
checked, cited Answer. Keeps the encoder, index and chat model loaded between calls."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa import offline
from qa.answer.condense import Condenser, condense_llm, condense_rules
from qa.answer.gate import refusal_reason, unanswered
from qa.answer.prompting import format_passages, refusal_text, render
from qa.backends import registry
from qa.backends.base import ChatModel, ChatRequest
from qa.backends.extractive import ExtractiveChatModel
from qa.errors import BackendError, IndexMissingError, InputError
from qa.grounding import cite
from qa.grounding.focus import focus
from qa.grounding.judge import Judge, OfflineJudge
from qa.grounding.markers import MARKER
from qa.index import Index
from qa.index.embedding import Encoder
from qa.retrieval.hybrid import Filters, HybridRetriever, Retrieval, Retriever
from qa.settings import Settings
from qa.text import language
from qa.text.hostile import screen
from qa.text.languages import question_language
from qa.text.sentences import sentence_spans
from qa.types import Answer, ChatMessage, Sentence, Timings

NO_SUPPORTED_SENTENCE = "no supported sentence"
UNSUPPORTED_FALLBACK = "no sentence of the model's answer was supported; quoting the passages"

# Terminal escape sequences (CSI "ESC [ 8 m", OSC "ESC ] 0 ; title BEL") go whole, so that
# their parameters ("8") are not read as words of the question; then any control character.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
History = Sequence[ChatMessage | dict[str, Any] | tuple[str, str]] | None


class AnswerStream:
    """Iterate for the answer's text as the model writes it; `.answer` is the checked
    Answer once iteration ends (`result()` finishes the iteration if needed)."""

    def __init__(self, generator: Generator[str, None, Answer]) -> None:
        self._generator = generator
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        self.answer = yield from self._generator

    def result(self) -> Answer:
        if self.answer is None:
            for _ in self:
                pass
        assert self.answer is not None
        return self.answer


class Assistant:
    """`Assistant(llm="llamacpp", index="index/")`: answer many questions with one set of
    loaded models. Settings not given come from the environment (QA_*) and defaults."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        llm: str | Any = None,
        index: str | Path | None = None,
        encoder: Encoder | None = None,
        judge: Judge | None = None,
        retriever: Retriever | None = None,
        condenser: Condenser | None = None,
        **options: Any,
    ) -> None:
        """Any part can be given: `llm` (a backend name, a `ChatModel` or a llama-index LLM),
        `judge` (checks each sentence), `retriever` (instead of the index), `condenser`
        (question + history -> standalone query). The rest is built from the settings."""
        offline.apply()
        base = settings or Settings.load()
        self.settings = base.replace(index=Path(index) if index else None, **options)
        self.encoder = encoder or Encoder.of(self.settings.embedding)
        self.judge: Judge = judge or OfflineJudge(self.encoder)
        self.model: ChatModel = registry.create(
            llm if llm is not None else self.settings.model.llm, self.settings, self.encoder
        )
        self._retriever: Retriever | None = retriever
        self._own_retriever = retriever is None
        self._condenser = condenser
        self._extractive: ChatModel | None = None

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            index = Index(self.settings.store, self.encoder.identity)
            store = index.store
            if store.count() == 0:
                raise IndexMissingError(
                    f"{store.location} is empty: run `qa ingest seeds/` (or your articles)"
                )
            self._retriever = HybridRetriever(self.encoder, store, index.keywords)
        return self._retriever

    def reopen(self) -> None:
        """Forget the open index, so articles ingested since are seen."""
        if self._own_retriever:
            self._retriever = None

    def warm_up(self) -> None:
        self.encoder.warm_up()
        language.nlp()
        _ = self.retriever
        self.model.warm_up()

    def answer(self, question: str, *, history: History = None, **options: Any) -> Answer:
        return self.stream(question, history=history, **options).result()

    def stream(
        self,
        question: str,
        *,
        history: History = None,
        sources: Sequence[str] = (),
        date_from: str = "",
        date_to: str = "",
        top_k: int | None = None,
        checked: bool = False,
    ) -> AnswerStream:
        """The answer as it is written. With `checked`, the stream carries only checked
        sentences, each as soon as it is complete and supported (what the chat page shows at
        the end), instead of the model's draft; `.answer` is the same either way."""
        question = self._validate(question)
        filters = Filters(tuple(sources), date_from or "", date_to or "")
        k = top_k or self.settings.answer.top_k
        return AnswerStream(self._run(question, normalise_history(history), filters, k, checked))

    def _validate(self, question: str) -> str:
        if not isinstance(question, str):
            raise InputError("the question must be text")
        try:
            question.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: undecodable bytes passed through
            raise InputError(
                "the question is not valid UTF-8 text: retype it or save it as UTF-8"
            ) from None
        question = " ".join(_CONTROL.sub(" ", _ESCAPE.sub(" ", question)).split())
        if not question:
            raise InputError("the question is empty: ask something about the articles")
        limit = self.settings.answer.max_question_chars
        if len(question) > limit:
            raise InputError(
                f"the question is {len(question):,} characters long; the limit is {limit:,}: "
                "ask a shorter question"
            )
        return question

    def condense(self, question: str, history: Sequence[ChatMessage]) -> str:
        if self._condenser is not None:
            return self._condenser(question, history)
        if self.settings.answer.condense == "llm":
            return condense_llm(question, history, self.model)
        return condense_rules(question, history)

    def _run(
        self,
        question: str,
        history: Sequence[ChatMessage],
        filters: Filters,
        k: int,
        checked: bool = False,
    ) -> Generator[str, None, Answer]:
        started = time.perf_counter()
        standalone = self.condense(question, history)
        retrieved_as_stored = self.retriever.retrieve(standalone, k, filters)
        # Injected instructions are no facts: nothing below reads them (the gate, the prompt,
        # the extractive answer, the checker); the answer shows them flagged in their cards.
        readable, flagged = screen(retrieved_as_stored.passages)
        found = dataclasses.replace(retrieved_as_stored, passages=readable)
        retrieved = time.perf_counter()

        def finish(
            raw: str, model: str, first: float, fallback: str = "", gate: str = ""
        ) -> Answer:
            timings = Timings(
                round(retrieved - started, 4),
                round(first - started, 4),
                round(time.perf_counter() - started, 4),
            )
            answer = self._build(question, standalone, found, raw, model, timings, fallback, gate)
            return dataclasses.replace(
                answer, passages=retrieved_as_stored.passages, flagged=flagged
            )

        # Passages, encoder and checker read English: a question in another language is
        # refused with the reason, never answered from names it shares with the articles.
        foreign = question_language(question)
        if foreign:
            text = refusal_text(foreign)
            yield text
            refused = finish(
                text,
                self.model.name,
                time.perf_counter(),
                gate=f"the question is in {foreign}, not English",
            )
            return dataclasses.replace(refused, text=text)
        gate = refusal_reason(standalone, found, self.settings.answer.min_similarity, self.encoder)
        if gate:
            text = refusal_text()
            yield text
            return finish(text, self.model.name, time.perf_counter(), gate=gate)
        excerpts = None
        if self.model.is_generative and self.settings.answer.focus_sentences > 0:
            excerpts = focus(
                standalone, found.passages, self.encoder, self.settings.answer.focus_sentences
            )
        messages = render(
            "answer", passages=format_passages(found.passages, excerpts), question=standalone
        )
        request = ChatRequest(
            messages,
            standalone,
            found.passages,
            self.settings.model.max_tokens,
            self.settings.model.temperature,
        )
        first = 0.0
        model, fallback = self.model, ""
        mode = self.settings.answer.unsupported
        sentences = CheckedSentences(
            lambda s: cite.check(s, found.passages, self.judge, standalone), mode
        )

        def relay(pieces: Iterator[str], into: CheckedSentences) -> Generator[str, None, str]:
            """Pass a model's pieces on (checked through `into` when `checked`); the text."""
            nonlocal first
            text = []
            for piece in pieces:
                first = first or time.perf_counter()
                text.append(piece)
                yield into.feed(piece) if checked else piece
            return "".join(text)

        try:
            raw = yield from relay(model.stream(request), sentences)
        except BackendError as exc:
            if not self.settings.model.fallback_extractive or not model.is_generative:
                raise
            model, fallback = self._fallback_model(), str(exc)
            yield "" if checked else "\n\n"
            raw = yield from relay(model.stream(request), sentences)
        name = f"{model.name} (fallback: {fallback})" if fallback else model.name
        answer = finish(raw, name, first or time.perf_counter(), fallback)
        retry = self._retry_request(answer, model, request)
        if retry is not None:
            # The small model often says "the articles do not say" beside the sentence that
            # does: shown only the sentences holding the asked-for slot, it answers or
            # refuses again (and the checker reads its answer as any other).
            sentences = CheckedSentences(sentences.check, mode)
            yield "" if checked else "\n\n"
            raw = yield from relay(model.stream(retry), sentences)
            again = finish(raw, name, first or time.perf_counter(), fallback)
            answer = again if not again.refused else answer
        fallback = self._quotes_instead(answer, model, standalone)
        if fallback:
            # The passages may hold the answer (the gate let the question through) but the
            # model's sentences are not in them, or leave the question open: quote the
            # passages (which refuses when no sentence holds what is asked).
            raw = answer.raw_text
            model = self._fallback_model()
            sentences = CheckedSentences(sentences.check, mode)
            yield "" if checked else "\n\n"
            quoted = "".join(
                model.stream(request, strict=True)
                if isinstance(model, ExtractiveChatModel)
                else model.stream(request)
            )
            name = f"{self.model.name} (fallback: {fallback})"
            answer = finish(quoted, name, first or time.perf_counter(), fallback)
            answer = dataclasses.replace(answer, raw_text=raw)
            if not checked:
                yield answer.text
        if checked:
            yield sentences.rest(answer.text)
        return answer

    def _retry_request(
        self, answer: Answer, model: ChatModel, request: ChatRequest
    ) -> ChatRequest | None:
        """The request to ask again when a model refused by itself though the gate let the
        question through and some passage sentences hold what it asks for; else None. The
        sentences go under their articles' titles: out of their passage, "it" needs one."""
        if not (
            self.settings.answer.retry_refusal
            and model.is_generative
            and answer.refusal_reason == NO_SUPPORTED_SENTENCE
            and cite.is_refusal(answer.raw_text)
        ):
            return None
        quoter = self._fallback_model()
        if not isinstance(quoter, ExtractiveChatModel):
            return None
        picked = quoter.select(request.question, request.passages)
        if not picked:
            return None
        excerpts: dict[int, list[str]] = {}
        for text, numbers in picked:
            excerpts.setdefault(numbers[0], []).append(text)
        passages = format_passages(
            request.passages, {n: " … ".join(parts) for n, parts in excerpts.items()}, titled=True
        )
        messages = render("answer", passages=passages, question=request.question)
        return dataclasses.replace(request, messages=messages)

    def _quotes_instead(self, answer: Answer, model: ChatModel, query: str) -> str:
        """Why quoting the passages (the extractive answer) should stand in for a model's
        answer: the checker dropped every sentence of it, or what it kept does not give
        what the question asks for ("" to keep the model's answer)."""
        if not (self.settings.answer.quote_unsupported and model.is_generative):
            return ""
        if answer.refused:
            dropped = answer.refusal_reason == NO_SUPPORTED_SENTENCE
            return UNSUPPORTED_FALLBACK if dropped and not cite.is_refusal(answer.raw_text) else ""
        return unanswered(query, [s.text for s in answer.sentences if s.supported])

    def _fallback_model(self) -> ChatModel:
        if self._extractive is None:
            self._extractive = registry.create("extractive", self.settings, self.encoder)
        return self._extractive

    def _build(
        self,
        question: str,
        standalone: str,
        found: Retrieval,
        raw: str,
        model: str,
        timings: Timings,
        fallback: str,
        gate: str,
    ) -> Answer:
        refused = bool(gate)
        sentences: list = []
        if not refused and not cite.is_refusal(raw):
            sentences = cite.check(raw, found.passages, self.judge, standalone)
        shown = [s for s in sentences if s.supported or self.settings.answer.unsupported == "flag"]
        if not any(s.supported for s in sentences):
            refused, shown = True, []
        text = refusal_text() if refused else cite.render(shown, self.settings.answer.unsupported)
        return Answer(
            question=question,
            standalone_query=standalone,
            text=text,
            refused=refused,
            sentences=tuple(sentences),
            citations=cite.citations([s for s in shown if s.supported], found.passages, self.judge),
            passages=found.passages,
            model=model,
            timings=timings,
            nearest=found.nearest if refused else (),
            raw_text=raw,
            fallback_reason=fallback,
            refusal_reason=gate or (NO_SUPPORTED_SENTENCE if refused else ""),
        )


class CheckedSentences:
    """Model text in, checked text out: a sentence is checked once the next one has begun
    (its markers, which may follow the full stop, are in), and shown if supported."""

    def __init__(self, check: Callable[[str], list[Sentence]], mode: str) -> None:
        self.check = check
        self.mode = mode
        self.raw = ""
        self.done = 0  # sentences of `raw` already checked
        self.shown = ""

    def feed(self, piece: str) -> str:
        self.raw += piece
        spans = sentence_spans(self.raw)
        out = []
        while self.done + 1 < len(spans) and _begun(self.raw[slice(*spans[self.done + 1])]):
            for sentence in self.check(self.raw[slice(*spans[self.done])]):
                if sentence.supported or self.mode == "flag":
                    out.append(cite.render([sentence], self.mode))
            self.done += 1
        return self._show(" ".join(out))

    def rest(self, final: str) -> str:
        """What the checked answer `final` adds to the text shown so far."""
        if final.startswith(self.shown):
            return self._show(final[len(self.shown) :].lstrip())
        return self._show(final)  # only after a backend fell back: the answer is `final`

    def _show(self, text: str) -> str:
        if text and self.shown:
            text = f" {text}"
        self.shown += text
        return text


def _begun(sentence: str) -> bool:
    """Has the model begun this sentence (more than markers and white space)?"""
    return bool(MARKER.sub("", sentence).strip())


def normalise_history(history: History) -> list[ChatMessage]:
    """Accepts ChatMessages, {"role", "content"} dicts (Gradio, OpenAI) or (user, bot) pairs."""
    out: list[ChatMessage] = []
    for item in history or []:
        if isinstance(item, ChatMessage):
            out.append(item)
        elif isinstance(item, dict):
            content = item.get("content")
            if isinstance(content, str) and item.get("role") in {"user", "assistant"}:
                out.append(ChatMessage(str(item["role"]), content))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            if item[0]:
                out.append(ChatMessage("user", str(item[0])))
            if item[1]:
                out.append(ChatMessage("assistant", str(item[1])))
        else:
            raise InputError(f"history item {item!r} is not a message: use role/content dicts")
    return out


_ASSISTANTS: dict[tuple, Assistant] = {}


def answer(question: str, *, history: History = None, **options: Any) -> Answer:
    """Answer one question with settings from `options`, the environment and defaults.

    The Assistant behind it is kept for the same settings, so repeated calls stay fast.
    """
    ask = {k: options.pop(k) for k in ("sources", "date_from", "date_to", "top_k") if k in options}
    llm = options.pop("llm", None)
    key = (repr(llm), tuple(sorted((k, repr(v)) for k, v in options.items())))
    if key not in _ASSISTANTS:
        _ASSISTANTS[key] = Assistant(llm=llm, **options)
    return _ASSISTANTS[key].answer(question, history=history, **ask)
