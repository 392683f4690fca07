"""The Gradio chat page (`qa chat`). Import `qa.ui.app` for `build_app`; it loads gradio."""
