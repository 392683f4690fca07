"""The chat page: `build_app(assistant)` makes the gr.Blocks, `launch(app, ...)` serves it.

Layout: chat on the left (answers stream in, [n] markers link to the cards), the source
cards on the right; settings under the chat; a Corpus tab to see and grow the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from qa.answer.assistant import Assistant
from qa.corpus.loaders import suffixes
from qa.ui.corpus import MAX_UPLOAD_BYTES, Corpus
from qa.ui.handlers import Handlers
from qa.ui.render import sources_html
from qa.ui.session import AssistantPool
from qa.ui.style import CSS, HEAD, theme

EXAMPLES = (
    "What did Shoigu say about military blocs?",
    "Who is Zhang Youxia?",
    "What did Putin say about trade with China?",
)
INTRO = (
    "<div class='qa-header'><h1>Ask the news</h1><p>Answers come only from the indexed "
    "articles; every sentence cites its source, checked before it is shown.</p></div>"
)


@dataclass
class _Chat:
    """The components the chat events read and write."""

    session: gr.State
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    new: gr.Button
    examples: list[gr.Button]
    sources: gr.HTML


@dataclass
class _Settings:
    model: gr.Dropdown
    status: gr.HTML
    top_k: gr.Slider
    outlets: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    flag: gr.Checkbox


def build_app(
    assistant: Assistant,
    *,
    uploads: Path | None = None,
    allow_folders: bool = True,
    examples: Sequence[str] = EXAMPLES,
) -> gr.Blocks:
    """The page for one Assistant (others are made on demand when a user switches model).

    `uploads` is where uploaded articles are kept (default `<index>/uploads/`);
    `allow_folders` lets users index a folder on the server by its path.
    """
    pool = AssistantPool(assistant)
    corpus = Corpus(assistant.settings, uploads or Path(assistant.settings.store.index) / "uploads")
    handlers = Handlers(pool, corpus, allow_folders)
    with gr.Blocks(title="qa · ask the news", analytics_enabled=False) as demo:
        gr.HTML(INTRO)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat, settings = _chat_tab(handlers, examples)
            with gr.Tab("Corpus", id="corpus"):
                stats, outlets_refresh = _corpus_tab(handlers, allow_folders, settings.outlets)
        _wire_chat(handlers, chat, settings)
        _wire_settings(handlers, chat, settings)
        stats_outputs = [stats, settings.outlets]
        demo.load(handlers.corpus_view, None, stats_outputs, queue=False)
        outlets_refresh.click(handlers.corpus_view, None, stats_outputs, queue=False)
    demo.queue(default_concurrency_limit=1)
    return demo


def _chat_tab(handlers: Handlers, examples: Sequence[str]) -> tuple[_Chat, _Settings]:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            chatbot = gr.Chatbot(
                label="Chat",
                height="62vh",
                render_markdown=False,
                sanitize_html=True,
                latex_delimiters=[],
                feedback_options=None,
                buttons=[],
                elem_id="qa-chat",
                placeholder="Ask a question about the indexed news articles.",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    scale=5,
                    autofocus=True,
                    max_lines=4,
                    placeholder="Ask about the articles…",
                    elem_id="qa-question",
                )
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-send")
            with gr.Row(elem_classes="qa-examples"):
                buttons = [gr.Button(q, size="sm", variant="secondary") for q in examples]
                new = gr.Button("New chat", size="sm", variant="stop", elem_id="qa-new-chat")
            settings = _settings_panel(handlers)
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### Sources")
            sources = gr.HTML(sources_html(None), elem_id="qa-sources-panel")
    session = gr.State(handlers.new_session())
    return _Chat(session, chatbot, question, send, new, buttons, sources), settings


def _settings_panel(handlers: Handlers) -> _Settings:
    pool, settings = handlers.pool, handlers.pool.settings
    with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
        with gr.Row():
            model = gr.Dropdown(
                pool.names(), value=pool.default, label="Chat model", elem_id="qa-model"
            )
            top_k = gr.Slider(
                1,
                max(20, settings.answer.top_k),
                value=settings.answer.top_k,
                step=1,
                label="Passages per answer",
            )
        status = gr.HTML("")
        outlets = gr.Dropdown(
            [],
            value=[],
            multiselect=True,
            label="Only these outlets (none chosen: all)",
            elem_id="qa-outlets",
        )
        with gr.Row():
            date_from = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD")
            date_to = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD")
        flag = gr.Checkbox(
            settings.answer.unsupported == "flag",
            label="Show unsupported sentences (marked) instead of dropping them",
        )
    return _Settings(model, status, top_k, outlets, date_from, date_to, flag)


def _corpus_tab(
    handlers: Handlers, allow_folders: bool, outlets: gr.Dropdown
) -> tuple[gr.HTML, gr.Button]:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            gr.Markdown("### What is indexed")
            stats = gr.HTML("", elem_id="qa-corpus-stats")
            refresh = gr.Button("Refresh", size="sm")
        with gr.Column(scale=1):
            gr.Markdown(
                f"### Add articles\n{', '.join(suffixes())} files (a `.meta.yaml` beside "
                f"an article gives its title, outlet, date), up to "
                f"{MAX_UPLOAD_BYTES // 2**20} MB each."
            )
            files = gr.File(
                file_count="multiple",
                type="filepath",
                label="Article files",
                file_types=[*suffixes(), ".yaml"],
                elem_id="qa-upload",
            )
            upload = gr.Button("Add to the index", variant="primary", elem_id="qa-upload-button")
            folder = gr.Textbox(
                label="…or a folder on the server",
                visible=allow_folders,
                placeholder="/path/to/articles",
                elem_id="qa-folder",
            )
            index_folder = gr.Button("Index folder", visible=allow_folders)
            progress = gr.HTML("", elem_id="qa-ingest-log")
    outputs = [progress, stats, outlets, files]
    upload.click(handlers.add_uploads, files, outputs, concurrency_id="ingest")
    index_folder.click(handlers.add_folder, folder, outputs, concurrency_id="ingest")
    return stats, refresh


def _wire_chat(handlers: Handlers, chat: _Chat, settings: _Settings) -> None:
    """Asking (Enter, the button or an example) streams through the one-at-a-time queue."""
    inputs = [
        chat.question,
        chat.session,
        settings.top_k,
        settings.outlets,
        settings.date_from,
        settings.date_to,
        settings.flag,
    ]
    outputs = [chat.chatbot, chat.sources, chat.question, chat.session]
    ask: dict[str, Any] = {
        "fn": handlers.respond,
        "inputs": inputs,
        "outputs": outputs,
        "concurrency_id": "model",
        "concurrency_limit": 1,
        "show_progress": "minimal",
    }
    # named, so a client (qa.bench.soak, gradio_client) can ask: predict(..., api_name="/ask")
    asking: list[Any] = [chat.question.submit(**ask, api_name="ask"), chat.send.click(**ask)]
    for button in chat.examples:
        fill = button.click(lambda q: q, button, chat.question, queue=False)
        asking.append(fill.then(**ask))
    # a new chat stops an answer still streaming, so it cannot write into the fresh session
    chat.new.click(
        handlers.new_chat, chat.session, outputs, queue=False, cancels=asking, api_name="new_chat"
    )
    chat.chatbot.clear(handlers.new_chat, chat.session, outputs, queue=False, cancels=asking)


def _wire_settings(handlers: Handlers, chat: _Chat, settings: _Settings) -> None:
    settings.model.input(
        handlers.switch_model,
        [settings.model, chat.session],
        [settings.model, settings.status, chat.session],
        concurrency_id="model",
        concurrency_limit=1,
    )
    settings.flag.input(handlers.rerender, [chat.session, settings.flag], chat.chatbot, queue=False)


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    block: bool = True,
) -> Any:
    """Serve the page. Theme and CSS go to launch() in Gradio 6; fonts are the system's."""
    return app.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        theme=theme(),
        css=CSS,
        head=HEAD,
        max_file_size=MAX_UPLOAD_BYTES,
        footer_links=["api", "settings"],
        show_error=False,
        quiet=True,
        prevent_thread_lock=not block,
        ssr_mode=False,
        pwa=False,
        enable_monitoring=False,
        mcp_server=False,
    )
