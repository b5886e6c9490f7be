"""The ``logreal`` command: paths checked before work, JSON rows, missing comparisons."""

import json
import sys

import numpy as np
import pytest

from logreal.cli import bench, demo_core, main, report

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--plot", "/no/such/folder/plot.png"],
        ["bench", "--quick", "--plot", "/no/such/folder/plot.png"],
        ["bench", "--quick", "--json", "/no/such/folder/rows.json"],
    ],
)
def test_output_into_a_missing_folder_fails_at_once(argv, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(bench, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "/no/such/folder" in err and "does not exist" in err
    assert not ran


def _tiny_cases(quick):
    x = np.linspace(1.0, 2.0, 100)
    yield report.Case(
        "tiny",
        100,
        lambda: ((lambda: np.sum(x)), {"np.prod": lambda: np.prod(x), "absent": "why"}),
    )
    yield report.Case("tiny portable", 100, lambda: ((lambda: x + 1), {}), path="portable")


def test_json_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "FACTORIES", (_tiny_cases,))
    monkeypatch.setattr(bench, "warm_up", lambda: None)
    path = tmp_path / "rows.json"
    assert main(["bench", "--quick", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())
    keys = {
        "operation",
        "size",
        "logreal_seconds",
        "baseline",
        "baseline_seconds",
        "ratio",
        "path",
    }
    assert all(keys | {"path", "note"} <= set(r) for r in rows)
    by = {(r["operation"], r["baseline"]): r for r in rows}
    timed = by["tiny", "np.prod"]
    assert timed["ratio"] == pytest.approx(timed["logreal_seconds"] / timed["baseline_seconds"])
    assert by["tiny", "absent"]["ratio"] is None and by["tiny", "absent"]["note"] == "why"
    assert by["tiny portable", "-"]["path"] == "portable"
    out = capsys.readouterr().out
    assert "why" in out and "tiny portable" in out


def test_missing_scipy_is_one_line_not_a_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)  # as if not installed
    assert not report.has("scipy")
    sec = demo_core.log_reals()
    notes = [r for r in sec.rows if "scipy" in r.method]
    assert len(notes) == 1
    assert notes[0].error == report.missing("scipy")
    assert "pip install 'logreal[demo]'" in notes[0].error


def test_bench_and_demo_list_their_parts_explicitly():
    from logreal.cli import demo

    assert len(demo.SECTIONS) >= 4 and all(callable(s) for s in demo.SECTIONS)
    assert len(bench.FACTORIES) >= 4 and all(callable(f) for f in bench.FACTORIES)


def test_dask_demo_section_on_a_small_array(monkeypatch):
    from logreal.cli import demo_dask

    monkeypatch.setattr(demo_dask, "N", 10**4)
    monkeypatch.setattr(demo_dask, "CHUNK", 10**3)
    monkeypatch.setattr(demo_dask, "SAMPLE", 2 * 10**3)
    sec = demo_dask.dask_section()
    samples = [r for r in sec.rows if "sample" in r.method]
    assert len(samples) == 3
    for row in samples:  # the chunked sample against NumPy: equal, or a few ulp
        assert row.error == "same" or float(row.error.split()[0]) <= 4, row
    assert any(note.startswith("dashboard: http") for note in sec.notes)
