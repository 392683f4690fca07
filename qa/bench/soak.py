"""A bounded soak test of a running `qa chat`: concurrent chat sessions over the page's API.

Each session is its own Gradio client (its own session hash, so its own server-side history)
and plays scripted conversations about the seed articles, with pronoun follow-ups whose
rewrite depends on that session's own earlier question. Every reply is checked: no error, the
transcript holds exactly this session's questions, a follow-up was rewritten with this
session's topic, every [n] has its source card, cited spans come from the corpus, refusals
only where expected. Latency is measured per question, the server's RSS sampled from /proc.

    python -m qa.bench.soak --url http://127.0.0.1:7860 --sessions 8 --questions 400 --corpus seeds

It stops after the questions or the time limit, whichever comes first, and exits 1 on any
error or crossed history. The facts checked are those of seeds/ (`--no-facts` otherwise).
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qa.errors import InputError, QAError


@dataclass(frozen=True)
class Step:
    """One scripted question: `topic` is the name its rewrite must carry (a follow-up),
    `expect` words of which the answer must hold one, `refuse` when seeds/ cannot answer."""

    question: str
    topic: str = ""
    expect: tuple[str, ...] = ()
    refuse: bool = False


# Checked with the extractive backend over seeds/. A follow-up's pronoun can only be resolved
# from the session's own earlier question, so a crossed history shows in the rewrite.
CONVERSATIONS: tuple[tuple[Step, ...], ...] = (
    (
        Step("Who is Zhang Youxia?", expect=("Zhang",)),
        Step("What position does he hold?", "Zhang", ("deputy chairman",)),
        Step("Which news agency did he talk to?", "Zhang", ("Interfax",)),
        Step("Who did he meet earlier on Wednesday?", "Zhang", ("Shoigu",)),
    ),
    (
        Step("What did Shoigu say about military blocs?", expect=("bloc",)),
        Step("Which alliance was he referring to?", "Shoigu", ("NATO",)),
        Step("How did he describe the Sino-Russian partnership?", "Shoigu", ("exemplary",)),
        Step("Who is the US Secretary of Defense?", refuse=True),
    ),
    (
        Step("What weapons projects did Putin propose?", expect=("weapons",)),
        Step("Which areas did he mention?", "Putin", ("space",)),
        Step(
            "Into which region does he plan to extend Russia's sphere of influence?",
            "Putin",
            ("Asia-Pacific",),
        ),
        Step("What did Putin say about Taiwan?", refuse=True),
    ),
    (
        Step("What happened to Li Shangfu?", expect=("dismissed",)),
        Step("Has an official reason been given for his removal?", "Shangfu", ("official",)),
        Step("Who won the 2022 football World Cup?", refuse=True),
    ),
    (
        Step("Who is Xi Jinping planning to meet?", expect=("Biden",)),
        Step("Where might he meet Joe Biden?", "Xi", ("San Francisco",)),
        Step(
            "What did the US Treasury Department do to several Chinese companies?",
            expect=("sanctions",),
        ),
    ),
)


# -- the server process, from /proc (no psutil) ---------------------------------------------


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MB (VmRSS); None when it cannot be read."""
    from qa.procs import rss_mb as read_rss

    if pid is None:
        return None
    try:
        return read_rss(pid).get("rss_mb")
    except (OSError, ValueError):
        return None


def _ip(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if sys.byteorder == "little":  # /proc prints each 32-bit word in host byte order
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _listen_sockets() -> dict[str, str]:
    """This machine's listening TCP sockets: inode -> "address:port"."""
    found = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in (line.split() for line in lines):
            if len(fields) > 9 and fields[3] == "0A":  # 0A: LISTEN
                address, port = fields[1].split(":")
                found[fields[9]] = f"{_ip(address)}:{int(port, 16)}"
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone, or another user's
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening(pid: int | None) -> list[str]:
    """Every address:port the process listens on (to see that it is loopback only)."""
    if pid is None:
        return []
    sockets = _listen_sockets()
    return sorted(sockets[i] for i in _socket_inodes(pid) if i in sockets)


def pid_on_port(port: int) -> int | None:
    """The process listening on a TCP port, if it is one this user may inspect."""
    inodes = {i for i, a in _listen_sockets().items() if a.rsplit(":", 1)[1] == str(port)}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _socket_inodes(int(entry.name)) & inodes:
            return int(entry.name)
    return None


# -- checking one reply ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong with one reply; kind is "error", "crossed" or "bad"."""

    kind: str
    message: str


def _text(content: Any) -> str:
    """A Chatbot message's content: a string, or Gradio 6's list of {"type", "text"} parts."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def check_reply(
    step: Step, asked: Sequence[str], chat: Any, sources: str, corpus: Sequence[str], facts: bool
) -> list[Problem]:
    """Everything wrong with the page's reply to the last of `asked` (this session's
    questions since its last new chat); `chat` and `sources` are what the page shows."""
    messages = list(chat or [])
    users = [_plain(_text(m.get("content"))) for m in messages if m.get("role") == "user"]
    if users != list(asked) or len(messages) != 2 * len(asked):
        return [Problem("crossed", f"transcript {users!r} is not this session's {list(asked)!r}")]
    reply = _text(messages[-1].get("content"))
    if "qa-error" in reply:
        return [Problem("error", f"{step.question!r}: {_plain(reply)}")]
    problems = []
    searched = re.search(r'class="qa-standalone">(.*?)</div>', reply)
    query = _plain(searched.group(1)) if searched else step.question
    if step.topic and not re.search(rf"\b{re.escape(step.topic)}\b", query):
        problems.append(Problem("crossed", f"{step.question!r} was rewritten as {query!r}"))
    refused = "qa-refusal" in reply
    if refused != step.refuse:
        said = "refused" if refused else f"answered {_plain(reply)[:120]!r}"
        problems.append(Problem("bad", f"{step.question!r} {said}"))
    if not refused:
        problems += _check_citations(step, reply, sources, corpus, facts)
    return problems


def _check_citations(
    step: Step, reply: str, sources: str, corpus: Sequence[str], facts: bool
) -> list[Problem]:
    """Markers in the answer, each with its card; marked spans from the corpus; the facts."""
    answer = re.search(r'class="qa-answer">(.*?)</div>', reply, re.DOTALL)
    text = _plain(answer.group(1)) if answer else ""
    cited = set(re.findall(r'href="#cite-(\d+)"', reply))
    missing = cited - set(re.findall(r'class="qa-card" id="cite-(\d+)"', sources))
    problems = []
    if not text or not cited:
        problems.append(Problem("bad", f"{step.question!r}: no cited answer ({text[:80]!r})"))
    if missing:
        problems.append(Problem("bad", f"{step.question!r}: no card for {sorted(missing)}"))
    for mark in re.findall(r"<mark>(.*?)</mark>", sources, re.DOTALL):
        quote = " ".join(html.unescape(mark).split())
        if corpus and not any(quote in t for t in corpus):
            problems.append(Problem("bad", f"cited span not in the corpus: {quote[:80]!r}"))
    if facts and step.expect and not any(w.lower() in text.lower() for w in step.expect):
        problems.append(Problem("bad", f"{step.question!r}: none of {step.expect} in {text!r}"))
    return problems


# -- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoakOptions:
    """What to run: `questions` in all, split over `sessions`, stopping at `max_seconds`."""

    url: str
    sessions: int = 8
    questions: int = 400
    max_seconds: float = 600.0
    warmup: int | None = None  # questions before "after warm-up" (default: about 10%)
    pid: int | None = None  # the server process; found from the URL's port when None
    corpus: tuple[str, ...] = ()  # article texts (whitespace squashed) cited spans come from
    facts: bool = True  # check answers against the seed facts
    timeout: float = 300.0  # seconds per question
    top_k: int = 5


@dataclass(frozen=True)
class SoakReport:
    """The figures of one run: latency in seconds (queue wait included), memory in MB."""

    url: str
    sessions: int
    planned: int
    questions: int
    seconds: float
    per_second: float
    stopped: str
    latency_p50: float
    latency_p95: float
    latency_max: float
    warm_p50: float  # the latencies after warm-up
    warm_p95: float
    errors: int
    crossed: int
    bad: int
    refusals: int
    pid: int | None
    rss_start_mb: float | None
    rss_warm_mb: float | None
    rss_end_mb: float | None
    rss_max_mb: float | None
    rss_growth_mb: float | None  # end minus after warm-up
    rss_growth_pct: float | None
    listening: tuple[str, ...]
    problems: tuple[str, ...] = ()  # the first few, in words

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        lines = [
            f"soak {self.url}: {self.questions}/{self.planned} questions, {self.sessions} "
            f"sessions, {self.seconds:.1f} s, {self.per_second:.2f} questions/s "
            f"(stopped: {self.stopped})",
            f"latency, queue wait included: p50 {self.latency_p50:.2f} s, p95 "
            f"{self.latency_p95:.2f} s, max {self.latency_max:.2f} s; after warm-up: p50 "
            f"{self.warm_p50:.2f} s, p95 {self.warm_p95:.2f} s",
            f"errors {self.errors}, crossed histories {self.crossed}, bad answers {self.bad} "
            f"(refusals {self.refusals})",
            f"server RSS (pid {self.pid}): start {_mb(self.rss_start_mb)}, after warm-up "
            f"{_mb(self.rss_warm_mb)}, end {_mb(self.rss_end_mb)}, max {_mb(self.rss_max_mb)}; "
            f"growth after warm-up {_mb(self.rss_growth_mb)}"
            + ("" if self.rss_growth_pct is None else f" ({self.rss_growth_pct:+.1f}%)"),
            f"listening on: {', '.join(self.listening) or 'unknown'}",
        ]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def percentile(values: Sequence[float], share: float) -> float:
    """The evaluation's and the benchmarks' percentile (numpy's, interpolated), so that a
    p95 means the same in every report; 0 for no values."""
    from qa.evaluation.metrics import percentile as interpolated

    return interpolated(values, share * 100) or 0.0


@dataclass
class _Tally:
    """What the sessions record (under the Soak's lock)."""

    latencies: list[float] = field(default_factory=list)  # in the order answers came
    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    refusals: int = 0
    timed_out: bool = False
    rss: list[float] = field(default_factory=list)
    rss_warm: float | None = None


class Soak:
    """One run: `Soak(options).run()` -> SoakReport."""

    def __init__(self, options: SoakOptions) -> None:
        self.options = options
        self.pid = options.pid or pid_on_port(urlsplit(options.url).port or 80)
        default = max(4 * options.sessions, options.questions // 10)
        self.warmup = min(
            options.questions // 2, default if options.warmup is None else options.warmup
        )
        self.tally = _Tally()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._deadline = 0.0

    def run(self) -> SoakReport:
        clients = [self._connect() for _ in range(self.options.sessions)]
        rss_start = rss_mb(self.pid)
        sampler = threading.Thread(target=self._sample, name="soak-rss", daemon=True)
        sampler.start()
        started = time.monotonic()
        self._deadline = started + self.options.max_seconds
        workers = [
            threading.Thread(target=self._session, args=(i, c), name=f"soak-{i}")
            for i, c in enumerate(clients)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.monotonic() - started
        self._done.set()
        sampler.join()
        for client in clients:
            client.close()
        return self._report(seconds, rss_start, rss_mb(self.pid))

    def _connect(self) -> Any:
        """A client with a session of its own; the page must expose the /ask event."""
        from gradio_client import Client

        url = self.options.url
        try:
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        except Exception as exc:
            raise InputError(f"cannot reach `qa chat` at {url} ({exc}): is it running?") from None
        api = client.view_api(print_info=False, return_format="dict")
        if "/ask" not in (api or {}).get("named_endpoints", {}):
            raise InputError(f"{url} has no /ask endpoint: is it a current `qa chat`?")
        return client

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            value = rss_mb(self.pid)
            if value is not None:
                with self._lock:
                    self.tally.rss.append(value)

    def _session(self, index: int, client: Any) -> None:
        """Conversations in turn, each in a new chat, starting at a different one per session
        so that neighbours talk about other people at the same time."""
        share, extra = divmod(self.options.questions, self.options.sessions)
        quota, asked_total, turn = share + (index < extra), 0, index
        while asked_total < quota and not self._expired():
            conversation = CONVERSATIONS[turn % len(CONVERSATIONS)]
            turn += 1
            try:
                client.predict(api_name="/new_chat")
            except Exception as exc:
                self._record(None, [Problem("error", f"new chat: {exc!r}")], False)
            asked: list[str] = []
            for step in conversation:
                if asked_total >= quota or self._expired():
                    break
                asked.append(step.question)
                self._ask(client, step, asked)
                asked_total += 1

    def _expired(self) -> bool:
        if time.monotonic() < self._deadline:
            return False
        self.tally.timed_out = True
        return True

    def _ask(self, client: Any, step: Step, asked: list[str]) -> None:
        opts = self.options
        started = time.perf_counter()
        refused = False
        try:
            job = client.submit(step.question, opts.top_k, [], "", "", False, api_name="/ask")
            chat, sources, _box = job.result(timeout=opts.timeout)
        except Exception as exc:
            problems = [Problem("error", f"{step.question!r}: {type(exc).__name__}: {exc}")]
        else:
            problems = check_reply(step, asked, chat, sources, opts.corpus, opts.facts)
            refused = bool(chat) and "qa-refusal" in _text(chat[-1].get("content"))
        self._record(time.perf_counter() - started, problems, refused)

    def _record(self, latency: float | None, problems: list[Problem], refused: bool) -> None:
        with self._lock:
            tally = self.tally
            if latency is not None:
                tally.latencies.append(latency)
            tally.refusals += refused
            for problem in problems:
                tally.kinds[problem.kind] += 1
                tally.problems.append(f"{problem.kind}: {problem.message}")
            if tally.rss_warm is None and len(tally.latencies) >= self.warmup:
                tally.rss_warm = rss_mb(self.pid)

    def _report(self, seconds: float, start: float | None, end: float | None) -> SoakReport:
        t, opts = self.tally, self.options
        warm, done = t.rss_warm, len(t.latencies)
        growth = end - warm if end is not None and warm is not None else None
        return SoakReport(
            url=opts.url,
            sessions=opts.sessions,
            planned=opts.questions,
            questions=done,
            seconds=round(seconds, 2),
            per_second=round(done / seconds, 2) if seconds else 0.0,
            stopped="time limit" if t.timed_out else "all questions asked",
            latency_p50=round(percentile(t.latencies, 0.5), 3),
            latency_p95=round(percentile(t.latencies, 0.95), 3),
            latency_max=round(max(t.latencies, default=0.0), 3),
            warm_p50=round(percentile(t.latencies[self.warmup :], 0.5), 3),
            warm_p95=round(percentile(t.latencies[self.warmup :], 0.95), 3),
            errors=t.kinds["error"],
            crossed=t.kinds["crossed"],
            bad=t.kinds["bad"],
            refusals=t.refusals,
            pid=self.pid,
            rss_start_mb=_round(start),
            rss_warm_mb=_round(warm),
            rss_end_mb=_round(end),
            rss_max_mb=_round(max([*t.rss, *(v for v in (start, end) if v)], default=None)),
            rss_growth_mb=_round(growth),
            rss_growth_pct=_round(100 * growth / warm) if growth is not None and warm else None,
            listening=tuple(listening(self.pid)),
            problems=tuple(t.problems[:20]),
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_soak(options: SoakOptions) -> SoakReport:
    """Drive the page at `options.url` and report (see the module docstring)."""
    return Soak(options).run()


def corpus_texts(folders: Sequence[Path]) -> tuple[str, ...]:
    """The article texts in folders, whitespace squashed, for the cited-span check."""
    from qa.corpus.loaders import iter_files, load_file

    texts: list[str] = []
    for file, root in iter_files(list(folders)):
        texts += [" ".join(a.text.split()) for a in load_file(file, root)[0]]
    return tuple(texts)


def main(argv: Sequence[str] | None = None) -> int:
    from qa import offline

    offline.apply()
    parser = argparse.ArgumentParser(
        prog="python -m qa.bench.soak", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--url", default="http://127.0.0.1:7860", help="the running `qa chat` page")
    add("--sessions", type=int, default=8, help="concurrent chat sessions (default: 8)")
    add("--questions", type=int, default=400, help="questions in all (default: 400)")
    add("--max-seconds", type=float, default=600, help="stop after this long (default: 600)")
    add("--warmup", type=int, help="questions before memory counts as warm (default: ~10%%)")
    add("--pid", type=int, help="the server process (default: found by the URL's port)")
    add("--corpus", type=Path, action="append", default=[], help="folder the cited spans are from")
    add("--no-facts", action="store_true", help="do not check answers against the seed facts")
    add("--timeout", type=float, default=300, help="seconds per question (default: 300)")
    add("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.questions < 1:
        parser.error("--sessions and --questions must be at least 1")
    try:
        options = SoakOptions(
            url=args.url,
            sessions=args.sessions,
            questions=args.questions,
            max_seconds=args.max_seconds,
            warmup=args.warmup,
            pid=args.pid,
            corpus=corpus_texts(args.corpus),
            facts=not args.no_facts,
            timeout=args.timeout,
        )
        report = run_soak(options)
    except QAError as exc:
        print(f"qa.bench.soak: error: {exc}", file=sys.stderr)
        return 2
    if args.json:  # with what `python -m qa.bench.figures --style soak` heads a block with
        from datetime import UTC, datetime

        from qa.procs import commit

        given = list(sys.argv[1:] if argv is None else argv)
        given = [a for a in given if a != "--json"]
        out = {
            **report.to_dict(),
            "command": " ".join(["python -m qa.bench.soak", *given]),
            "commit": commit(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        print(json.dumps(out, indent=2))
    else:
        print(report.summary())
    return 1 if report.errors or report.crossed else 0


if __name__ == "__main__":
    sys.exit(main())
