"""The package layout follows the data flow, and imports only go down it.

Every module of `qa` is read with `ast` (imports inside functions and under TYPE_CHECKING
count too) and each import between packages is checked against the allowed edges below,
the same ones the packages' docstrings and the README's architecture section state.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "qa"

# Modules every package may use: errors, data types, settings, offline switches, progress
# bars, the offline model files, child processes and ports.
BASE = {"errors", "types", "settings", "offline", "progress", "models", "procs"}

# package -> the packages it may import (besides itself and BASE).
FLOW = {"text", "corpus", "index", "retrieval", "grounding", "backends", "answer"}
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "text": set(),
    "corpus": {"text"},
    "index": {"text", "corpus"},
    "retrieval": {"text", "index"},
    "grounding": {"text"},
    "backends": {"text", "grounding"},
    "answer": FLOW - {"answer"},
    "ui": FLOW,
    "integrations": FLOW,
    "evaluation": FLOW | {"ui", "integrations"},  # it checks the rendered page too
    "bench": FLOW | {"ui", "integrations", "evaluation"},
    "commands": FLOW | {"ui", "integrations", "evaluation", "bench"},
    "top": set(),  # qa/__init__.py and qa/cli.py: the entry points, may import anything
}
PACKAGES = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
MODULES = {p.stem for p in ROOT.glob("*.py")}


def part_of(module: str) -> str:
    """The layer of a dotted module name inside qa ("qa.index.bm25" -> "index")."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    head = parts[1]
    if head in BASE:
        return "base"
    if head in PACKAGES:
        return head
    return "top"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every qa module that `path` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "qa"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "qa":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else node.module))
    return found


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_import_between_packages_goes_down_the_flow() -> None:
    wrong = []
    for path in all_modules():
        src = part_of(module_name(path))
        if src == "top":
            continue
        for line, target in imports(path):
            dst = part_of(target)
            if dst in (src, "base") or dst in ALLOWED[src]:
                continue
            wrong.append(f"{path.relative_to(ROOT.parent)}:{line} ({src}) imports {target} ({dst})")
    assert not wrong, "imports against the layout:\n" + "\n".join(wrong)


def test_base_modules_import_only_each_other() -> None:
    wrong = [
        f"{p.name}:{line} imports {t}"
        for p in (ROOT / f"{m}.py" for m in BASE)
        for line, t in imports(p)
        if part_of(t) != "base"
    ]
    assert not wrong, wrong


def test_every_package_says_its_one_job_and_what_it_may_import() -> None:
    for name in PACKAGES:
        doc = ast.get_docstring(ast.parse((ROOT / name / "__init__.py").read_text("utf-8")))
        assert doc and len(doc.split()) >= 12, f"qa/{name}/__init__.py has no docstring"
        assert "import" in doc, f"qa/{name}: the docstring does not say what it may import"


def test_the_layout_table_covers_every_package_and_top_level_module() -> None:
    # a new package or module must be placed in the layout, not slip past the check
    assert set(ALLOWED) >= PACKAGES, PACKAGES - set(ALLOWED)
    assert {"__init__", "cli"} >= MODULES - BASE, MODULES - BASE


@pytest.mark.parametrize(
    "source, target, allowed",
    [
        ("qa.backends.extractive", "qa.grounding.focus", True),
        ("qa.backends.llamacpp", "qa.bench.net", False),  # the old side import
        ("qa.grounding.judge", "qa.index.keywords", False),  # the old STOPWORDS import
        ("qa.index.ingest", "qa.answer.assistant", False),  # upward
    ],
)
def test_the_check_itself_tells_down_from_side_and_up(
    source: str, target: str, allowed: bool
) -> None:
    src, dst = part_of(source), part_of(target)
    assert (dst in (src, "base") or dst in ALLOWED[src]) is allowed
