"""The evaluation report: a Markdown summary and one self-contained HTML page (plots as
inline PNG, every text HTML-escaped), both written from the results dict of `qa eval`."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

HEADLINE = (
    ("correctness", "answer correctness"),
    ("hit@1", "retrieval hit@1"),
    ("hit@k", "retrieval hit@k"),
    ("mrr", "retrieval MRR"),
    ("gold_coverage", "gold articles retrieved"),
    ("citation_recall", "citation recall"),
    ("citation_precision", "citation precision"),
    ("faithfulness", "faithfulness"),
    ("refusal_precision", "refusal precision"),
    ("refusal_recall", "refusal recall"),
    ("first_token_p50", "first token p50 (s)"),
    ("first_token_p95", "first token p95 (s)"),
    ("total_p50", "total p50 (s)"),
    ("total_p95", "total p95 (s)"),
)
COUNTS = ("questions", "answerable", "refused", "false_refusals", "errors")
REDTEAM = (  # shown only for a set with red-team questions
    ("redteam_pass", "red-team pass rate"),
    ("redteam_questions", "red-team questions"),
    ("redteam_failed", "red-team failed"),
    ("redteam_draft_leaks", "red-team draft leaks"),
)
PLOTTED = (
    "correctness",
    "hit@k",
    "mrr",
    "citation_recall",
    "citation_precision",
    "faithfulness",
    "refusal_precision",
    "refusal_recall",
)


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def metrics_table(results: dict[str, Any]) -> list[str]:
    names = list(results["backends"])
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in HEADLINE:
        values = [fmt(results["backends"][n]["totals"].get(key)) for n in names]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    rows = [(key, key.replace("_", " ")) for key in COUNTS]
    if any(results["backends"][n]["totals"].get("redteam_questions") for n in names):
        rows += list(REDTEAM)
    for key, label in rows:
        values = [fmt(results["backends"][n]["totals"].get(key)) for n in names]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return lines


def _section(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    """A `## title` heading and a Markdown table, followed by a blank line."""
    lines = [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(results: dict[str, Any], per_question: bool = True) -> str:
    """The summary: figures per backend, the judges' own accuracy, RGB, per-question rows."""
    k = next(iter(results["backends"].values()))["totals"]["k"]
    out = [
        f"# Grounding evaluation: {results['eval_set']}",
        "",
        f"Command: `{results['command']}`",
        "",
        f"{results['questions']} questions; judge: {results['judge']}; k = {k}; "
        f"run {results['created']}.",
        "",
        *metrics_table(results),
        "",
    ]
    out += _raw_and_checked(results)
    if results.get("judges"):
        out += _section(
            "Judges on the labelled pairs",
            ("judge", "pairs", "balanced accuracy", "accuracy", "TPR", "TNR"),
            [
                (
                    j["name"],
                    j["n"],
                    fmt(j["balanced_accuracy"]),
                    fmt(j["accuracy"]),
                    fmt(j["true_positive_rate"]),
                    fmt(j["true_negative_rate"]),
                )
                for j in results["judges"]
            ],
        )
    if results.get("rgb"):
        rgb = results["rgb"]
        out += _section(
            f"RGB noisy retrieval ({rgb['questions']} of {rgb['of']} questions, "
            f"{rgb['passages']} pooled passages)",
            ("backend", "accuracy", "refused", "total p50 (s)"),
            [
                (name, fmt(r["accuracy"]), r["refused"], fmt(r["total_p50"]))
                for name, r in rgb["backends"].items()
            ],
        )
    for name, run in results["backends"].items():
        redteam = any("redteam_pass" in g for g in run["by_kind"].values())
        out += _section(
            f"{name}: by kind of question",
            ("kind", "questions", "correctness", "refused", *(["red-team pass"] * redteam)),
            [
                (kind, g["questions"], fmt(g["correctness"]), g["refused"])
                + ((fmt(g.get("redteam_pass")),) if redteam else ())
                for kind, g in run["by_kind"].items()
            ],
        )
        failed = [r for r in run["questions"] if r.get("redteam") and not r["redteam"]["pass"]]
        if failed:
            out += _section(
                f"{name}: red-team failures",
                ("id", "kind", "why", "answer"),
                [
                    (
                        r["id"],
                        r["kind"],
                        _cell("; ".join(r["redteam"]["failures"])),
                        _cell(r["answer"]),
                    )
                    for r in failed
                ],
            )
        if per_question:
            out += _question_rows(run["questions"])
    return "\n".join(out) + "\n"


RAW_VS_SHOWN = (
    ("correctness", "answer correctness"),
    ("citation_recall", "citation recall"),
    ("citation_precision", "citation precision"),
    ("faithfulness", "faithfulness"),
)


def checker_agreement(totals: dict[str, Any]) -> float | None:
    """Share of the checked sentences on which the checker's keep/remove decision is the
    scoring judge's supported/unsupported verdict."""
    decided = totals.get("checker_removed", 0) + totals.get("checker_kept", 0)
    if not decided:
        return None
    disagree = totals.get("checker_removed_supported", 0) + totals.get(
        "checker_kept_unsupported", 0
    )
    return (decided - disagree) / decided


def _raw_and_checked(results: dict[str, Any]) -> list[str]:
    """The model's raw answer against the shown one, and what the checker removed, each
    as the scoring judge sees it (a judge other than the checker's makes this independent)."""
    runs = {n: r["totals"] for n, r in results["backends"].items() if "checker_kept" in r["totals"]}
    if not runs:
        return []
    judge = results.get("judge", "offline")
    rows = []
    for name, t in runs.items():
        for key, label in RAW_VS_SHOWN:
            rows.append((name, label, fmt(t.get(f"raw_{key}")), fmt(t.get(key))))
    out = _section(
        f"Raw model answer vs shown (checked) answer, scored by the {judge} judge",
        ("backend", "metric", "raw (unchecked)", "shown (checked)"),
        rows,
    )
    out += _section(
        f"What the checker did, as the {judge} judge sees it",
        (
            "backend",
            "sentences removed",
            "of those, supported",
            "sentences shown",
            "of those, unsupported",
            f"checker agrees with the {judge} judge",
        ),
        [
            (
                name,
                t["checker_removed"],
                t["checker_removed_supported"],
                t["checker_kept"],
                t["checker_kept_unsupported"],
                fmt(checker_agreement(t)),
            )
            for name, t in runs.items()
        ],
    )
    if judge == "offline":
        out += [
            "The offline judge is the checker's own method (here without the question and "
            "the other passages), so these figures are not independent of the checker. Run "
            "with `--judge llamacpp` (the bundled model as a yes/no judge) for one that is.",
            "",
        ]
    return out


def _question_rows(rows: Sequence[dict[str, Any]]) -> list[str]:
    out = [
        "| id | correct | refused | rank | cit. recall | cit. precision | answer |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['id']} | {fmt(r['correct'])} | {fmt(r['refused'])} | {fmt(r['rank'])}"
            f" | {fmt(r['citation_recall'])} | {fmt(r['citation_precision'])}"
            f" | {_cell(r['error'] or r['answer'])} |"
        )
    return [*out, ""]


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(results: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, base64 PNG): metrics per backend, and the latency distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["backends"])
    figure, axis = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        totals = results["backends"][name]["totals"]
        values = [totals.get(key) or 0.0 for key in PLOTTED]
        axis.bar([x + i * width for x in range(len(PLOTTED))], values, width, label=name)
    axis.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(PLOTTED))])
    axis.set_xticklabels([key.replace("_", "\n") for key in PLOTTED], fontsize=8)
    axis.set_ylim(0, 1.05)
    axis.legend()
    out = [("Metrics per backend", _png(figure))]
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(9, 3.2))
    series = [
        [r["total"] for r in results["backends"][n]["questions"] if r["total"] is not None]
        for n in names
    ]
    axis.boxplot([s or [0.0] for s in series], orientation="horizontal")
    axis.set_yticks(range(1, len(names) + 1), names)
    axis.set_xlabel("seconds per question (total)")
    out.append(("Latency per question", _png(figure)))
    plt.close(figure)
    return out


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;font-size:13px}th{background:#f3f3f3}.no{color:#b00}.yes{color:#070}
.q td{max-width:420px}blockquote{margin:2px 0 2px 8px;color:#444;font-size:12px}
code{background:#f6f6f6}"""


def _sentences_html(row: dict[str, Any]) -> str:
    parts = []
    for s in row["sentences"]:
        verdict = "shown" if s["shown"] else "dropped"
        if s["recalled"] is not None:
            verdict += f"; judge: {'supported' if s['recalled'] else 'NOT supported'}"
            verdict += "; precise: " + ", ".join(
                f"[{n}] {'yes' if p else 'no'}"
                for n, p in zip(s["citations"], s["precise"], strict=False)
            )
        css = "yes" if s["checker_supported"] else "no"
        parts.append(
            f"<li class='{css}'>{escape(s['text'])} "
            f"{escape(''.join(f'[{n}]' for n in s['citations']))}"
            f"<br><small>checker: {escape(s['checker_reason'])}; {escape(verdict)}"
            f"</small></li>"
        )
    return "<ul>" + "".join(parts) + "</ul>" if parts else ""


def _raw_html(row: dict[str, Any]) -> str:
    raw = row.get("raw_text", "")
    if not raw or " ".join(raw.split()) == " ".join(row["answer"].split()):
        return ""
    return f"<details><summary><small>model wrote</small></summary>{escape(raw)}</details>"


def _redteam_html(row: dict[str, Any]) -> str:
    check = row.get("redteam")
    if not check:
        return ""
    verdict = "passed" if check["pass"] else "FAILED: " + "; ".join(check["failures"])
    if check["draft_leaks"]:
        verdict += "; the model's draft held " + ", ".join(map(repr, check["draft_leaks"]))
    css = "yes" if check["pass"] else "no"
    return f"<div class='{css}'><small>red-team: {escape(verdict)}</small></div>"


def _question_html(row: dict[str, Any]) -> str:
    history = "".join(
        f"<div><small>{escape(t['role'])}: {escape(t['content'])}</small></div>"
        for t in row["history"]
    )
    citations = "".join(
        f"<blockquote>[{c['n']}] {escape(c['article_id'])}: “{escape(c['quote'])}”</blockquote>"
        for c in row["citations"]
    )
    ok = row["correct"]
    css = "" if ok is None else ("yes" if ok else "no")
    return (
        f"<tr><td>{escape(row['id'])}<br><small>{escape(row['kind'])}</small></td>"
        f"<td>{history}{escape(row['question'])}<br><small>searched: "
        f"{escape(row['standalone_query'])}</small><br><small>gold: "
        f"{escape(' / '.join(row['answers']) or '(unanswerable)')}</small></td>"
        f"<td>{escape(row['error'] or row['answer'])}{_raw_html(row)}{citations}"
        f"{_sentences_html(row)}{_redteam_html(row)}</td>"
        f"<td class='{css}'>{fmt(ok)}</td><td>{fmt(row['refused'])}</td>"
        f"<td>{fmt(row['rank'])}</td><td>{fmt(row['citation_recall'])}</td>"
        f"<td>{fmt(row['citation_precision'])}</td><td>{fmt(row['total'])}</td></tr>"
    )


def html(results: dict[str, Any]) -> str:
    """The whole report as one page with no outside requests."""
    body = [
        f"<h1>Grounding evaluation: {escape(results['eval_set'])}</h1>",
        f"<p><code>{escape(results['command'])}</code><br>judge: {escape(results['judge'])}; "
        f"{results['questions']} questions; {escape(results['created'])}</p>",
        _table_html(metrics_table(results)),
    ]
    for title, data in plots(results):
        body.append(
            f"<h2>{escape(title)}</h2><img alt='{escape(title)}' "
            f"src='data:image/png;base64,{data}'>"
        )
    if results.get("judges"):
        rows = [["judge", "pairs", "balanced accuracy", "TPR", "TNR", "accuracy by kind"]]
        rows += [
            [
                j["name"],
                j["n"],
                fmt(j["balanced_accuracy"]),
                fmt(j["true_positive_rate"]),
                fmt(j["true_negative_rate"]),
                json.dumps(j["by_kind"]),
            ]
            for j in results["judges"]
        ]
        body += ["<h2>Judges on the labelled pairs</h2>", _grid(rows)]
    if results.get("rgb"):
        rgb = results["rgb"]
        rows = [["backend", "accuracy", "correct", "refused", "total p50 (s)"]]
        rows += [
            [n, fmt(r["accuracy"]), r["correct"], r["refused"], fmt(r["total_p50"])]
            for n, r in rgb["backends"].items()
        ]
        body += [f"<h2>RGB noisy retrieval ({rgb['questions']} questions)</h2>", _grid(rows)]
    for name, run in results["backends"].items():
        body.append(
            f"<h2>Questions: {escape(name)}</h2><table class='q'><tr><th>id</th>"
            "<th>question</th><th>answer, citations, verdicts</th><th>correct</th>"
            "<th>refused</th><th>rank</th><th>cit. recall</th><th>cit. precision</th>"
            "<th>total (s)</th></tr>"
        )
        body += [_question_html(row) for row in run["questions"]]
        body.append("</table>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>qa eval</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _grid(rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows[1:]
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _table_html(lines: Sequence[str]) -> str:
    """The Markdown metrics table as HTML (same figures, one source)."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return _grid([rows[0], *rows[2:]])


def write(results: dict[str, Any], folder: str | Path) -> list[Path]:
    """summary.md, report.html and results.json in `folder` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "summary.md": markdown(results),
        "report.html": html(results),
        "results.json": json.dumps(results, indent=2, ensure_ascii=False),
    }
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return [folder / name for name in files]
