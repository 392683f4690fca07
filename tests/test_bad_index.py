"""A missing, empty or corrupted index is a one-line error with the fix, exit code 2."""

from __future__ import annotations

import shutil

import pytest


@pytest.mark.parametrize("damage", ["empty-folder", "state-garbage", "chroma-garbage"])
def test_damaged_index_is_a_one_line_error(run_qa, seed_settings, tmp_path, damage):
    index = tmp_path / "idx"
    if damage == "empty-folder":
        index.mkdir()
    else:
        shutil.copytree(seed_settings.store.index, index)
        target = index / ("state.sqlite3" if damage == "state-garbage" else "chroma/chroma.sqlite3")
        target.write_bytes(b"this is not a database" * 500)
        for journal in ("-wal", "-shm"):  # SQLite would still read the pages kept there
            target.with_name(target.name + journal).unlink(missing_ok=True)
    done = run_qa("ask", "Who is Zhang Youxia?", "--index", str(index))
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "qa ingest" in lines[0]
