"""The wheel a user installs holds the whole package: every module and subpackage under qa/
and the prompt templates as real files, built the way `pip install .` builds it (the sdist
first, the wheel from the sdist)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile

from .conftest import ROOT


def test_the_wheel_built_from_the_sdist_holds_every_source_file(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = tmp_path.glob("qa_news-*.whl")
    (sdist,) = tmp_path.glob("qa_news-*.tar.gz")
    source = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "qa").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert "qa/commands/doctor.py" in source and "qa/prompts/answer.txt" in source
    with zipfile.ZipFile(wheel) as archive:
        infos = {i.filename: i for i in archive.infolist() if i.filename.startswith("qa/")}
        assert set(infos) == source
        for name in ("qa/prompts/answer.txt", "qa/prompts/judge.txt"):
            assert archive.read(name) == (ROOT / name).read_bytes()
            assert (infos[name].external_attr >> 28) != 0o12  # a file, not a symlink
        entry = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt")))
        assert b"qa = qa.cli:main" in entry
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        assert source <= names
        assert not [m.name for m in archive.getmembers() if m.issym()]
