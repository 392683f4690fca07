"""Child processes and ports on 127.0.0.1 (the llama.cpp server, Chroma, benchmarks) and the
commit this checkout is at."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers below 500; fail early if `proc` exits."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a live process, in MB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(
                    int(value.split()[0]) / 1024, 1
                )
    return out


def children(pid: int) -> list[int]:
    """Every live descendant of `pid` (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def tree_rss_mb(pid: int) -> dict[str, float]:
    """RSS of a process plus its children (a `qa chat` and its model process), in MB."""
    own = rss_mb(pid)
    kids = 0.0
    for child in children(pid):
        with contextlib.suppress(OSError):  # a child that just ended
            kids += rss_mb(child).get("rss_mb", 0.0)
    return {
        **own,
        "rss_mb": round(own.get("rss_mb", 0.0) + kids, 1),
        "children_rss_mb": round(kids, 1),
    }


def run_peak_rss(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, float]:
    """Run a command to the end; its exit code and its own peak RSS in MB.

    Read from /proc (VmHWM, which starts afresh at exec) while it runs: the rusage figures
    (wait4, getrusage) keep the parent's peak across fork and exec, so a child of a large
    benchmark process would report the parent's memory instead of its own."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or dict(os.environ)
    )
    peak = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, rss_mb(proc.pid).get("peak_rss_mb", 0.0))
        except OSError:  # it ended between poll and read
            break
        time.sleep(0.05)
    return proc.returncode if proc.returncode is not None else proc.wait(), peak


def commit() -> str:
    """The short commit of the checkout this runs from ("unknown" outside git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


@contextlib.contextmanager
def postgres_server(extra: tuple[str, ...] = ()) -> Iterator[str]:
    """A throwaway PostgreSQL (Debian's, /usr/lib/postgresql/*/bin) on 127.0.0.1 in a temp
    folder, removed afterwards; yields its postgresql:// URL. As root, the server runs as the
    `postgres` user (initdb refuses root)."""
    import glob
    import shutil
    import tempfile
    from pathlib import Path

    from qa.errors import StoreUnavailableError

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise StoreUnavailableError("PostgreSQL is not installed: apt-get install -y postgresql")
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="qa-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    try:
        init = ["-D", str(data), "-A", "trust", "-U", "qa", "-E", "UTF8", "--no-sync"]
        done = subprocess.run(
            [*as_user, str(bin_dir / "initdb"), *init], capture_output=True, text=True
        )
        if done.returncode:
            # e.g. a TMPDIR the postgres user cannot enter
            why = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise StoreUnavailableError(f"PostgreSQL's initdb failed in {folder}: {why}")
        log = open(folder / "server.log", "w")  # noqa: SIM115
        serve = ["-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(folder)]
        proc = subprocess.Popen(
            [*as_user, str(bin_dir / "postgres"), *serve, "-c", "fsync=off", *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"postgresql://qa@127.0.0.1:{port}/postgres"
        try:
            _wait_postgres(url, proc)
            yield url
        finally:
            # a fast shutdown: it does not wait for clients still connected (an interrupted
            # ingest's), as the default smart one, sent through runuser, would
            subprocess.run(
                [*as_user, str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast"],
                capture_output=True,
                timeout=60,
            )
            stop(proc)
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_postgres(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode} before accepting {url}")
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not accept connections within {seconds}s")
