"""Look of the chat page: a theme with system fonts only (no font downloads), the CSS of
answers and source cards, and the small script that scrolls a clicked [n] to its card."""

from __future__ import annotations

from typing import Any

SANS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> Any:
    """gr.themes.Base with local fonts: a Google font would be a request off the machine."""
    import gradio as gr

    return gr.themes.Base(primary_hue="blue", neutral_hue="slate", font=SANS, font_mono=MONO)


CSS = """
.qa-header h1 { margin: 0 0 2px 0; font-size: 1.4rem; }
.qa-header p { margin: 0; color: var(--body-text-color-subdued); }
.qa-answer, .qa-draft { line-height: 1.55; }
.qa-draft { color: var(--body-text-color-subdued); white-space: pre-wrap; }
.qa-cursor { animation: qa-blink 1s steps(2) infinite; }
@keyframes qa-blink { to { visibility: hidden; } }
a.qa-marker { text-decoration: none; font-weight: 600; font-size: 0.85em; padding: 0 1px;
  color: var(--color-accent); }
a.qa-marker:hover { text-decoration: underline; }
.qa-unsupported { background: repeating-linear-gradient(135deg, transparent 0 6px,
  rgba(220, 38, 38, 0.08) 6px 12px); text-decoration: underline wavy rgba(220, 38, 38, 0.7);
  text-underline-offset: 3px; }
.qa-flag { color: #b91c1c; font-size: 0.85em; }
.qa-standalone, .qa-note { font-size: 0.8em; color: var(--body-text-color-subdued);
  margin-top: 6px; }
.qa-standalone { font-style: italic; }
.qa-refusal ul.qa-nearest { margin: 6px 0 0 0; padding-left: 18px; }
.qa-nearest-title { margin-top: 8px; font-size: 0.9em; }
.qa-error { border-left: 4px solid #dc2626; padding: 6px 10px; background: rgba(220, 38, 38, 0.08);
  border-radius: 4px; }
.qa-sources { display: flex; flex-direction: column; gap: 10px; }
#qa-sources-panel { max-height: 78vh; overflow-y: auto; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  background: var(--block-background-fill); scroll-margin-top: 12px; transition: box-shadow .3s; }
.qa-card.qa-flagged { border-color: #c77700; }
.qa-flag-reason, .qa-flag-note { font-size: 0.85em; color: #8a5300; margin-top: 4px; }
.qa-flagged-text { text-decoration: line-through; background: #fff3e0; color: inherit; }
.qa-card.qa-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.qa-card-head { font-weight: 600; line-height: 1.3; }
.qa-n { color: var(--color-accent); margin-right: 4px; }
.qa-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 2px; }
.prose blockquote.qa-passage { margin: 8px 0 0 0 !important; padding: 6px 10px;
  border-left: 3px solid var(--border-color-primary); font-size: 0.9em; line-height: 1.5;
  white-space: pre-wrap; }
.qa-passage mark { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.qa-placeholder { color: var(--body-text-color-subdued); padding: 12px 4px; }
.qa-stats { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 8px; }
.qa-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.qa-table th, .qa-table td { text-align: left; padding: 3px 8px;
  border-bottom: 1px solid var(--border-color-primary); }
.qa-log { font-family: var(--font-mono); font-size: 0.85em; white-space: pre-wrap; }
.qa-examples button { font-size: 0.85em !important; }
"""

# Links to "#cite-n" live inside the chat's own scroll box; a plain anchor jump would also
# be caught by the page router, so we scroll the card into view ourselves.
HEAD = """
<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#cite-"]');
  if (!link) { return; }
  var card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) { return; }
  event.preventDefault();
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.add("qa-flash");
  setTimeout(function () { card.classList.remove("qa-flash"); }, 1600);
}, true);
</script>
"""
