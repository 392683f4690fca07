"""Plugins: a small package, installed with pip, adds a chat backend and an article format
through the `qa.backends` and `qa.loaders` entry-point groups, used from the `qa` command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PLUGIN = '''
"""A plugin for qa: the `lead` backend answers with the first sentence of the best
passage; the `.rst` loader reads a title underlined with === and the text below it."""


class LeadModel:
    name = "lead"
    can_stream = True
    is_generative = False

    def warm_up(self):
        pass

    def stream(self, request):
        best = request.passages[0]
        first = best.text.strip().split(". ")[0].rstrip(".")
        yield f"{first} [{best.n}]."


def lead(settings, embedder):
    return LeadModel()


def load_rst(content, file):
    lines = content.splitlines()
    if len(lines) < 3 or set(lines[1].strip()) != {"="}:
        raise ValueError("no title underlined with ===")
    return [{"title": lines[0].strip(), "source": "RST Weekly", "text": "\\n".join(lines[2:])}]
'''

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "qa-plugin-lead"
version = "0.1.0"

[tool.setuptools]
py-modules = ["qa_plugin_lead"]

[project.entry-points."qa.backends"]
lead = "qa_plugin_lead:lead"

[project.entry-points."qa.loaders"]
rst = "qa_plugin_lead:load_rst"
"""

ARTICLE = """Harbour ferry returns after repairs
===================================

The Kessington harbour ferry returned to service on Monday after six weeks of engine
repairs, the port authority said. The crossing takes 25 minutes.
"""


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """The plugin package built and installed by pip into its own folder."""
    root = tmp_path_factory.mktemp("plugin")
    source = root / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT), encoding="utf-8")
    (source / "qa_plugin_lead.py").write_text(PLUGIN, encoding="utf-8")
    site = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--target", str(site), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert list(site.glob("qa_plugin_lead-0.1.0.dist-info/entry_points.txt"))
    return site


@pytest.mark.slow
def test_plugin_backend_and_loader_from_the_command_line(plugin_site, run_qa, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.rst").write_text(ARTICLE, encoding="utf-8")
    (corpus / "broken.rst").write_text("no title here\n", encoding="utf-8")
    env = {"PYTHONPATH": str(plugin_site)}
    index = str(tmp_path / "index")

    without = run_qa("ingest", str(corpus), "--index", index)  # the plugin not installed
    assert "unsupported file type '.rst'" in without.stdout + without.stderr

    ingested = run_qa("ingest", str(corpus), "--index", index, env=env)
    assert ingested.returncode == 0, ingested.stderr
    report = ingested.stdout + ingested.stderr
    assert "broken.rst" in report and "no title underlined with ===" in report

    asked = run_qa(
        "ask",
        "When did the Kessington harbour ferry return to service?",
        "--llm",
        "lead",
        "--index",
        index,
        "--json",
        env=env,
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["model"] == "lead" and not answer["refused"]
    assert "returned to service on Monday" in answer["text"]
    (citation,) = answer["citations"]
    assert citation["title"] == "Harbour ferry returns after repairs"
    assert citation["source"] == "RST Weekly"

    unknown = run_qa("ask", "Anything?", "--llm", "nope", "--index", index, env=env)
    assert unknown.returncode != 0
    assert "lead" in unknown.stderr and "extractive" in unknown.stderr
    assert "Traceback" not in unknown.stderr
