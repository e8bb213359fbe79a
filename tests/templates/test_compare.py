"""The build comparison fails where it must: a number beyond tolerance, a formula, a style, a width, the VBA."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from _workbook_helpers import edit, sheet_part

from corrlev_xl import names as N
from corrlev_xl.templates import compare as C
from corrlev_xl.templates.desk import DESK_FILE, build_desk
from corrlev_xl.templates.ribbon import build_addin


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_desk(tmp_path_factory.mktemp("compare") / DESK_FILE)


@pytest.fixture(scope="module")
def dash(desk: Path) -> str:
    """The Dashboard's part in the desk workbook."""
    return sheet_part(desk, N.SHEET_DASHBOARD)


def stored(desk: Path, part: str, cell: str) -> str:
    xml = zipfile.ZipFile(desk).read(part).decode("utf-8")
    m = re.search(rf'<c r="{cell}"[^>]*>.*?<v>([^<]*)</v>', xml)
    assert m, cell
    return m.group(1)


def scaled(desk: Path, dash: str, tmp_path: Path, *, d5: float, c33: float) -> Path:
    """A copy whose stored EFFLEV (Dashboard!D5) and one covariance entry (C33) are multiplied by d5, c33."""
    effl = float(stored(desk, dash, "D5"))
    once = edit(desk, tmp_path / "a.xlsx", dash, r'(<c r="D5"[^>]*>.*?<v>)[^<]*(</v>)',
                rf"\g<1>{effl * d5!r}\g<2>")
    cov = float(stored(once, dash, "C33"))
    return edit(once, tmp_path / "b.xlsx", dash, r'(<c r="C33"[^>]*><v>)[^<]*(</v>)',
                rf"\g<1>{cov * c33!r}\g<2>")


def test_a_build_equals_itself(desk: Path) -> None:
    result = C.compare(desk, desk)
    assert result.ok and result.compared > 10_000, result.report()


def test_last_digit_noise_passes(desk: Path, dash: str, tmp_path: Path) -> None:
    """What another BLAS does: EFFLEV and one covariance entry moved in the 13th digit."""
    noisy = scaled(desk, dash, tmp_path, d5=1 + 3e-13, c33=1 - 2e-12)
    result = C.compare(desk, noisy)
    assert result.ok, result.report()
    assert 1e-13 < result.largest < 1e-11


def test_a_number_beyond_tolerance_is_named_with_its_size(desk: Path, dash: str, tmp_path: Path) -> None:
    moved = scaled(desk, dash, tmp_path, d5=1 + 1e-6, c33=1 + 1e-4)
    result = C.compare(desk, moved)
    assert not result.ok and not result.structure
    assert sorted(d.where for d in result.numbers) == ["Dashboard!C33", "Dashboard!D5"]
    report = result.report()
    # largest first, with the size of the difference
    assert report.index("Dashboard!C33") < report.index("Dashboard!D5"), report
    assert re.search(r"Dashboard!D5: .* \(difference [0-9.e-]+, 1e-06 relative", report), report


def test_a_changed_formula_is_named(desk: Path, dash: str, tmp_path: Path) -> None:
    changed = edit(desk, tmp_path / "a.xlsx", dash, r"<f>EFFLEV\(Positions,CovTable,Equity\)</f>",
                   "<f>EFFLEV(Positions,CovTable,Cap)</f>")
    result = C.compare(desk, changed)
    assert any(s.startswith("Dashboard!D5: formula 'EFFLEV(Positions,CovTable,Equity)' vs "
                            "'EFFLEV(Positions,CovTable,Cap)'") for s in result.structure), result.report()


def test_a_changed_label_style_width_and_name_are_found(desk: Path, dash: str, tmp_path: Path) -> None:
    out = edit(desk, tmp_path / "a.xlsx", dash, r"<t>USDJPY</t>(?=</is></c><c r=\"C31\")", "<t>USD/JPY</t>")
    out = edit(out, tmp_path / "b.xlsx", dash, r'(<c r="D5") s="\d+"', r'\1 s="0"')
    out = edit(out, tmp_path / "c.xlsx", dash, r'<col width="11.5"', '<col width="12.5"')
    out = edit(out, tmp_path / "d.xlsx", "xl/workbook.xml", r"Book!\$L\$5<", "Book!$L$6<")
    report = C.compare(desk, out).report()
    for needle in ("Dashboard!B31: value 'USDJPY' vs 'USD/JPY'", "Dashboard!D5: style number format",
                   "Dashboard: column widths differ", "defined name Equity: Book!$L$5 vs Book!$L$6"):
        assert needle in report, report


def test_the_addin_is_compared_part_by_part(tmp_path: Path) -> None:
    xlam = build_addin(tmp_path / "a")
    assert C.compare(xlam, build_addin(tmp_path / "b")).ok
    with zipfile.ZipFile(xlam) as z:
        ui = z.read("customUI/customUI14.xml").decode("utf-8")
    label = re.search(r'label="([^"]+)"', ui)
    assert label
    changed = edit(xlam, tmp_path / "c.xlam", "customUI/customUI14.xml", f'label="{label.group(1)}"',
                   f'label="{label.group(1)}!"')
    assert "part customUI/customUI14.xml differs" in C.compare(xlam, changed).structure


def test_command_line(desk: Path, dash: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert C.main([str(desk), str(desk)]) == 0
    changed = edit(desk, tmp_path / "a.xlsx", dash, r"<f>EFFLEV\(Positions,CovTable,Equity\)</f>",
                   "<f>EFFLEV(Positions,CovTable,Cap)</f>")
    assert C.main([str(desk), str(changed)]) == 1
    assert "Dashboard!D5: formula" in capsys.readouterr().out
