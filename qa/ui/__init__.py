"""The Gradio chat page (`qa chat`). Import `qa.ui.app` for `build_app`; it loads gradio.

May import `qa.answer` and everything below it; only `qa.commands` and `qa.evaluation`
(which checks the rendered page) import it.
"""
