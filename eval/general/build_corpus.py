#!/usr/bin/env python
"""Build the "general" evaluation corpus from text that ships with gensim's test data.

    python eval/general/build_corpus.py OUT_DIR

Writes one ``ID.txt`` per document into OUT_DIR: the first line is the title, then a blank
line, then the body (plain prose paragraphs separated by blank lines).  The file stem is the
article id the ``qa`` tool uses (``wiki_apollo_11``, ``news_sci.space_60229``).

Sources (inside the installed gensim package, ``gensim/test/test_data/``):

* ``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``: an English
  Wikipedia XML extract (CC BY-SA).  The wiki markup of the chosen pages is cleaned here
  (templates, references, tables, lists, headings, files and categories removed; links
  reduced to their text; a few templates such as ``convert`` rendered), and every page is
  cut, at a paragraph boundary, to at most MAX_WIKI_CHARS characters of body.
* ``mini_newsgroup``: a zlib-compressed pickle of a 200-post 20 Newsgroups sample
  (alt.atheism, sci.space).  It is read with a restricted unpickler (only the handful of
  classes the file needs; no sklearn needed).  Headers are dropped except ``Subject`` (the
  title); the signature (after a ``-- `` line), quoted lines (``>``, ``|>``, ``}``, ``:``) and
  "... writes:" attribution lines are removed; hard-wrapped lines are joined into paragraphs.

The output is deterministic: a fixed list of documents, processed in a fixed order, with
no randomness.  ``lee_background.cor`` is not used.
"""

from __future__ import annotations

import bz2
import copyreg
import html
import io
import os
import pickle
import re
import sys
import zlib
from typing import Any

import gensim
from gensim.corpora.wikicorpus import extract_pages

TEST_DATA = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")
WIKI_DUMP = os.path.join(
    TEST_DATA, "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
)
NEWS_PICKLE = os.path.join(TEST_DATA, "mini_newsgroup")
MAX_WIKI_CHARS = 6000

# Wikipedia page titles (exactly as in the dump), in output order.
WIKI_TITLES = [
    "Anarchism",
    "Apollo 11",
    "Apollo 8",
    "Andre Agassi",
    "Alain Connes",
    "Allan Dwan",
    "Actrius",
    "Animalia (book)",
    "International Atomic Time",
    "Aardwolf",
    "Aardvark",
    "Ampere",
    "Andrei Tarkovsky",
    "Albert Einstein",
    "Abraham Lincoln",
    "Aldous Huxley",
    "Animal Farm",
    "Aruba",
    "Andorra",
    "Alaska",
    "Alabama",
    "Algeria",
    "Angola",
    "Albania",
    "Achilles",
    "Albert Sidney Johnston",
    "A Modest Proposal",
    "An American in Paris",
    "America the Beautiful",
    "Academy Awards",
    "Ayn Rand",
    "Aristotle",
    "Aikido",
    "Abacus",
    "Asphalt",
    "ASCII",
    "Alberta",
    "American Football Conference",
]

# 20 Newsgroups posts: (group, message number), in output order.
NEWS_POSTS = [
    ("sci.space", "60181"),
    ("sci.space", "60229"),
    ("sci.space", "60804"),
    ("sci.space", "60822"),
    ("sci.space", "60834"),
    ("sci.space", "60840"),
    ("sci.space", "60941"),
    ("sci.space", "60942"),
    ("sci.space", "61027"),
    ("sci.space", "61066"),
    ("sci.space", "61165"),
    ("sci.space", "61171"),
    ("sci.space", "61208"),
    ("sci.space", "61272"),
    ("sci.space", "61293"),
    ("sci.space", "61324"),
    ("sci.space", "61371"),
    ("sci.space", "61461"),
    ("sci.space", "62398"),
    ("alt.atheism", "51227"),
    ("alt.atheism", "53336"),
]


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


# --------------------------------------------------------------------------- wiki markup

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
UNITS = {
    "km2": "km2",
    "sqkm": "km2",
    "sqmi": "sq mi",
    "mi2": "sq mi",
    "ha": "hectares",
    "acre": "acres",
    "ft": "ft",
    "m": "m",
    "km": "km",
    "mi": "mi",
    "kg": "kg",
    "lb": "lb",
    "t": "tonnes",
    "cm": "cm",
    "in": "in",
    "mm": "mm",
    "nmi": "nautical miles",
    "km/h": "km/h",
    "mph": "mph",
    "C": "°C",
    "F": "°F",
    "m2": "m2",
    "sqft": "sq ft",
}
# Templates whose first positional argument is kept as plain text.
KEEP_FIRST = {
    "nowrap",
    "nobold",
    "small",
    "smaller",
    "big",
    "smallcaps",
    "sc",
    "lang-en",
    "formatnum",
    "flag",
    "flagcountry",
    "sic",
    "nobr",
    "w",
    "em",
    "strong",
    "abbr",
    "ill",
    "interlanguage link",
    "linktext",
    "not a typo",
    "proper name",
    "noitalic",
    "angle bracket",
    "vanchor",
    "visible anchor",
    "shy",
    "mvar",
    "math",
    "var",
    "keypress",
    "quote",
    "nihongo",
    "cquote",
    "blockquote",
    "quotation",
}


def split_args(body: str) -> list[str]:
    """Split a template body on top-level pipes (links and nested templates kept whole)."""
    out, depth, cur = [], 0, []
    i = 0
    while i < len(body):
        two = body[i : i + 2]
        if two in ("{{", "[["):
            depth += 1
            cur.append(two)
            i += 2
            continue
        if two in ("}}", "]]"):
            depth -= 1
            cur.append(two)
            i += 2
            continue
        ch = body[i]
        if ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def render_date(args: list[str]) -> str:
    nums = [a.strip() for a in args if re.fullmatch(r"\s*\d+\s*", a)]
    if len(nums) >= 3 and 1 <= int(nums[1]) <= 12:
        return f"{MONTHS[int(nums[1]) - 1]} {int(nums[2])}, {nums[0]}"
    if len(nums) >= 2 and 1 <= int(nums[1]) <= 12:
        return f"{MONTHS[int(nums[1]) - 1]} {nums[0]}"
    return nums[0] if nums else ""


def render_template(body: str) -> str:
    args = split_args(body)
    name = args[0].strip().lower().replace("_", " ")
    pos = [a for a in args[1:] if not re.match(r"^\s*[\w -]+\s*=", a)]
    if name in ("convert", "cvt"):
        vals = [a.strip() for a in pos]
        if len(vals) >= 4 and vals[1] in (
            "to",
            "-",
            "–",
            "and",
            "or",
            "by",
            "x",
            "×",
            "and(-)",
            "to(-)",
            "+",
            "±",
        ):
            word = vals[1].replace("(-)", "")
            sep = "–" if word in ("-", "–") else f" {word} "
            return f"{vals[0]}{sep}{vals[2]} {UNITS.get(vals[3], vals[3])}"
        if len(vals) >= 2:
            return f"{vals[0]} {UNITS.get(vals[1], vals[1])}"
        return vals[0] if vals else ""
    if name == "val":
        named = dict(a.split("=", 1) for a in args[1:] if "=" in a)
        num = pos[0].strip() if pos else ""
        if named.get("e"):
            num += "×10^" + named["e"].strip()
        unit = named.get("u", named.get("ul", "")).strip()
        return f"{num} {unit}".strip()
    if name in KEEP_FIRST:
        return pos[0].strip() if pos else ""
    if name.startswith("lang-") or name.startswith("lang "):
        return pos[0].strip() if pos else ""
    if name in ("lang", "transl", "transliteration"):
        return pos[-1].strip() if pos else ""
    if name in ("as of",):
        return "As of " + render_date(pos) if pos else ""
    if name in ("circa", "c.", "c"):
        return "c. " + pos[0].strip() if pos else "c."
    if name in ("frac", "fraction"):
        vals = [a.strip() for a in pos]
        if len(vals) == 3:
            return f"{vals[0]} {vals[1]}/{vals[2]}"
        if len(vals) == 2:
            return f"{vals[0]}/{vals[1]}"
        return "/".join(vals)
    if name in ("us$", "usd"):
        return "US$" + pos[0].strip() if pos else ""
    if name in ("ndash", "snd", "spaced ndash", "–"):
        return " – "
    if name in ("mdash", "spaced mdash", "—"):
        return " — "
    if name in ("nbsp", "sp"):
        return " "
    if re.match(
        r"^(birth date|death date|start date|end date|film date|dob|birth date and age|"
        r"death date and age|date)$",
        name,
    ):
        return render_date(pos)
    if name in ("year", "bc"):
        return pos[0].strip() if pos else ""
    return ""  # every other template (citations, infoboxes, IPA, notes, navboxes) is dropped


def expand_templates(text: str) -> str:
    """Replace {{...}} (nested) innermost first; tables {|...|} are removed separately."""
    pattern = re.compile(r"\{\{((?:(?!\{\{|\}\}).)*)\}\}", re.S)
    for _ in range(50):
        new = pattern.sub(lambda m: render_template(m.group(1)), text)
        if new == text:
            break
        text = new
    return text


def remove_tables(text: str) -> str:
    out, depth = [], 0
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("{|"):
            depth += 1
            continue
        if depth and s.startswith("|}"):
            depth -= 1
            continue
        if not depth:
            out.append(line)
    return "\n".join(out)


def replace_links(text: str) -> str:
    # files, images, categories and interwiki links (possibly with nested links in captions)
    file_re = re.compile(
        r"\[\[\s*(?:File|Image|Category|Media|[a-z]{2,3}(?:-[a-z]+)?)\s*:"
        r"(?:(?!\[\[|\]\]).)*\]\]",
        re.S | re.I,
    )
    not_file = r"(?!\s*(?:File|Image|Category|Media)\s*:)"
    link_re = re.compile(r"\[\[" + not_file + r"([^\[\]|]*)\|([^\[\]]*)\]\]", re.I)
    plain_re = re.compile(r"\[\[" + not_file + r"([^\[\]|]*)\]\]", re.I)
    for _ in range(10):
        new = file_re.sub("", text)
        new = link_re.sub(lambda m: m.group(2), new)
        new = plain_re.sub(
            lambda m: (
                m.group(1).split("#")[0] if not m.group(1).startswith("#") else m.group(1)[1:]
            ),
            new,
        )
        if new == text:
            break
        text = new
    text = re.sub(r"\[(?:[a-z]+:)?//[^\s\]]+\s+([^\]]*)\]", r"\1", text)  # [http://x label]
    text = re.sub(r"\[(?:[a-z]+:)?//[^\s\]]+\]", "", text)
    return text


STOP_SECTIONS = {
    "see also",
    "references",
    "notes",
    "external links",
    "further reading",
    "bibliography",
    "footnotes",
    "sources",
    "citations",
    "notes and references",
    "references and notes",
    "works cited",
    "explanatory notes",
    "selected works",
    "filmography",
    "discography",
    "works",
    "publications",
    "gallery",
}


def clean_wiki(raw: str) -> list[str]:
    t = html.unescape(raw)
    t = re.sub(r"<!--.*?-->", "", t, flags=re.S)
    t = re.sub(r"<ref[^>/]*/>", "", t, flags=re.I)
    t = re.sub(r"<ref[^>]*>.*?</ref>", "", t, flags=re.S | re.I)
    t = re.sub(
        r"<(gallery|timeline|math|score|imagemap|syntaxhighlight|source|pre)[^>]*>.*?</\1>",
        "",
        t,
        flags=re.S | re.I,
    )
    t = expand_templates(t)
    t = remove_tables(t)
    t = replace_links(t)
    t = re.sub(r"<br\s*/?>", " ", t, flags=re.I)
    t = re.sub(r"</?[a-zA-Z][^>]*>", "", t)  # remaining tags, keep their text
    t = re.sub(r"'{2,}", "", t)  # bold / italics
    t = html.unescape(t).replace("\u00a0", " ")
    t = t.replace("&nbsp;", " ")

    paragraphs: list[str] = []
    cur: list[str] = []
    stopped = False
    for line in t.split("\n"):
        s = line.strip()
        heading = re.match(r"^(=+)\s*(.*?)\s*\1$", s)
        if heading:
            if heading.group(2).strip().lower() in STOP_SECTIONS:
                stopped = True
            if cur:
                paragraphs.append(" ".join(cur))
                cur = []
            if stopped:
                break
            continue
        if not s or s[0] in "*#:;|!{}" or s.startswith("__"):
            if cur:
                paragraphs.append(" ".join(cur))
                cur = []
            continue
        cur.append(s)
    if cur and not stopped:
        paragraphs.append(" ".join(cur))

    out: list[str] = []
    for p in paragraphs:
        p = tidy(p)
        # keep prose: long enough, ends like a sentence, no markup left over
        if len(p) < 60 or not re.search(r"[.!?][\"'”’)]?$", p):
            continue
        if re.search(r"\{\{|\}\}|\[\[|\]\]|\|", p):
            continue
        out.append(p)
    return out


def tidy(p: str) -> str:
    p = re.sub(r"\s+", " ", p)
    p = re.sub(r"\(\s*(?:aged?\s*)?(?:\d+\s*)?years? ago\s*\)", "", p)  # emptied {{age}}
    for _ in range(3):
        p = re.sub(r"\(\s*[;,:]?\s*\)", "", p)  # emptied parentheses
        p = re.sub(r"\(\s*[;,]\s*", "(", p)
        p = re.sub(r"\s*[;,]\s*\)", ")", p)
    p = re.sub(r"\(\s+", "(", p)
    p = re.sub(r"\s+\)", ")", p)
    p = re.sub(r"\s+([,.;:!?])", r"\1", p)
    p = re.sub(r"([,;])(?=[,;.])", "", p)
    p = re.sub(r"\s+", " ", p)
    return p.strip()


def trim(paragraphs: list[str], limit: int) -> list[str]:
    out: list[str] = []
    total = 0
    for p in paragraphs:
        extra = len(p) + (2 if out else 0)
        if total + extra > limit:
            break
        out.append(p)
        total += extra
    return out


def wiki_documents() -> list[tuple[str, str, list[str]]]:
    wanted = set(WIKI_TITLES)
    found: dict[str, str] = {}
    with bz2.open(WIKI_DUMP, "rb") as fh:
        for title, text, _pageid in extract_pages(fh):
            if title in wanted and title not in found:
                found[title] = text
    missing = wanted - set(found)
    if missing:
        raise SystemExit(f"pages missing from the dump: {sorted(missing)}")
    docs = []
    for title in WIKI_TITLES:
        paras = trim(clean_wiki(found[title]), MAX_WIKI_CHARS)
        if not paras:
            raise SystemExit(f"no prose left for {title!r}")
        docs.append(("wiki_" + slug(title), title, paras))
    return docs


# --------------------------------------------------------------------------- newsgroups


class _Bunch(dict):
    """Stands in for sklearn.datasets.base.Bunch (a dict subclass)."""


def _numpy_reconstruct() -> Any:
    import importlib

    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2, numpy 1
        try:
            return importlib.import_module(module)._reconstruct
        except (ImportError, AttributeError):
            continue
    raise SystemExit("numpy is needed to read the mini_newsgroup pickle")


def load_newsgroups() -> dict[tuple[str, str], str]:
    import numpy as np

    allowed = {
        ("copy_reg", "_reconstructor"): getattr(copyreg, "_reconstructor"),  # noqa: B009
        ("copyreg", "_reconstructor"): getattr(copyreg, "_reconstructor"),  # noqa: B009
        ("sklearn.datasets.base", "Bunch"): _Bunch,
        ("__builtin__", "dict"): dict,
        ("__builtin__", "object"): object,
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            try:
                return allowed[(module, name)]
            except KeyError:
                raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None

    with open(NEWS_PICKLE, "rb") as fh:
        raw = zlib.decompress(fh.read())
    bunch = Restricted(io.BytesIO(raw), encoding="latin1").load()
    posts = {}
    for text, fname in zip(bunch["data"], bunch["filenames"], strict=True):
        fname = fname.decode() if isinstance(fname, bytes) else str(fname)
        group, number = fname.replace("\\", "/").split("/")[-2:]
        posts[(group, number)] = text
    return posts


QUOTE_RE = re.compile(r"^\s*(>|\|>|\}|:\s|:$)")
ATTRIB_RE = re.compile(r"(writes|wrote|said)\s*(:|\.\.\.)\s*$", re.I)


def clean_post(text: str) -> tuple[str, list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header, _, body = text.partition("\n\n")
    subject = ""
    for line in header.split("\n"):
        if line.lower().startswith("subject:"):
            subject = line.split(":", 1)[1].strip()
            break
    lines = []
    for line in body.split("\n"):
        if line.rstrip() in ("--", "-- "):
            break  # signature follows
        if QUOTE_RE.match(line) or ATTRIB_RE.search(line):
            continue
        lines.append(line.rstrip())
    paragraphs: list[str] = []
    cur: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paragraphs.append(re.sub(r"\s+", " ", " ".join(cur)).strip())
            cur = []
    # "¥" is a Macintosh bullet (0xA5) read as Latin-1; ASCII-art signatures are dropped
    paragraphs = [re.sub(r"^\u00a5\s*", "- ", p) for p in paragraphs]
    paragraphs = [
        p for p in paragraphs if sum(c.isalpha() for c in p) >= 0.6 * len(p.replace(" ", ""))
    ]
    return subject, paragraphs


def news_documents() -> list[tuple[str, str, list[str]]]:
    posts = load_newsgroups()
    docs = []
    for group, number in NEWS_POSTS:
        subject, paras = clean_post(posts[(group, number)])
        if not paras:
            raise SystemExit(f"empty post {group}/{number}")
        docs.append((f"news_{group}_{number}", subject or f"{group} {number}", paras))
    return docs


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    docs = wiki_documents() + news_documents()
    ids = [d[0] for d in docs]
    assert len(ids) == len(set(ids)), "duplicate article ids"
    for doc_id, title, paras in docs:
        path = os.path.join(out_dir, doc_id + ".txt")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(title + "\n\n" + "\n\n".join(paras) + "\n")
    n_wiki = sum(i.startswith("wiki_") for i in ids)
    print(
        f"wrote {len(docs)} files to {out_dir} ({n_wiki} Wikipedia articles, "
        f"{len(docs) - n_wiki} newsgroup posts)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
