"""Several reports at once on one input: each gets its own complete file, none sees another's."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from corrlev_xl import files
from corrlev_xl import names as N
from corrlev_xl.core import CorrLevError

from ._books import DESK, no_limit_env, no_temp_files  # noqa: F401 (a fixture)

RUNS = 6


def test_six_reports_at_once_with_the_default_name_all_succeed_with_distinct_valid_files(tmp_path: Path) -> None:
    original = DESK.read_bytes()  # once: the template may be rebuilt meanwhile
    (tmp_path / "desk.xlsx").write_bytes(original)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRLEV_")}
    procs = [subprocess.Popen([sys.executable, "-m", "corrlev_xl.cli", "report", "desk.xlsx", "-q"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(RUNS)]
    done = [(*p.communicate(timeout=240), p.returncode) for p in procs]
    for _, err, code in done:
        assert code == 0 and err == "", err
    written = sorted(tmp_path.glob("desk-report-*.xlsx"))
    assert len(written) == RUNS
    named = {out.rsplit("Results written to ", 1)[1].split(" (the input")[0] for out, _, _ in done}
    assert {Path(p).name for p in named} == {p.name for p in written}  # each run says which file is its own
    for path in written:
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None
        wb = openpyxl.load_workbook(path, read_only=True)
        assert len(list(wb[N.SHEET_AUDIT].iter_rows(values_only=True))) == 2  # header + this run's row
    assert no_temp_files(tmp_path)
    assert (tmp_path / "desk.xlsx").read_bytes() == original


def _publish(folder: str, out: str | None, start: multiprocessing.synchronize.Barrier,
             results: multiprocessing.queues.Queue, n: int) -> None:
    target = files.prepare_output(DESK, out, force=False, when_text="20261201-090000", cwd=Path(folder))
    try:
        target.temp.write_bytes(f"report {n:02d}".encode() * 1000)
        start.wait(timeout=30)
        results.put(str(target.publish()))
    except CorrLevError as exc:
        results.put(f"refused: {exc}")
    finally:
        target.discard()


@pytest.mark.parametrize("explicit", [False, True])
def test_sixteen_publishers_racing_for_one_name(tmp_path: Path, explicit: bool) -> None:
    """The same second and the same name: default names count up; a given name goes to exactly one run."""
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Barrier(16), ctx.Queue()
    out = str(tmp_path / "same.xlsx") if explicit else None
    procs = [ctx.Process(target=_publish, args=(str(tmp_path), out, start, queue, n)) for n in range(16)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    made = [r for r in results if not r.startswith("refused")]
    if explicit:
        assert len(made) == 1 and all("appeared while the report ran" in r for r in results if r not in made)
    else:
        assert len(set(made)) == 16
    contents = {p.read_bytes() for p in tmp_path.iterdir()}
    assert len(contents) == len(made)  # every file is one run's, complete
    assert all(c == c[:9] * 1000 and c.startswith(b"report ") for c in contents)
    assert no_temp_files(tmp_path)
