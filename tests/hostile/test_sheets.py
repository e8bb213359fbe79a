"""A user's sheet is never touched: output sheets are corrlev-xl's own, known by their marker.

Sheet names compare as in Excel (ignoring case); a user's sheet named like an
output is refused by name before anything is written, by the macros and the
report alike.  Duplicate headers in the inputs are refused, not picked from.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import sys
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _desks import after, analysis, desk, renamed_desk, run  # noqa: E402

from corrlev_xl import cli, report_sheets  # noqa: E402
from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.core import CorrLevError  # noqa: E402
from corrlev_xl.excel import layouts  # noqa: E402
from corrlev_xl.sample import sample_book  # noqa: E402

WHEN = dt.datetime(2026, 12, 1, 9, 30)
REFUSED = r"the workbook has a sheet '{}' that corrlev-xl did not write .*rename your sheet '{}' and run {} again"


@pytest.mark.parametrize(("script", "what", "title", "rows"), [
    ("rebalance", "Rebalance", "Proposal", [["my own proposal", 1.0]]),
    ("rebalance", "Rebalance", "proposal", [["notes"]]),
    ("rebalance", "Rebalance", "PROPOSAL", []),
    ("rebalance", "Rebalance", "Audit log", [["date", "amount"], [1.0, 2.0]]),
    ("rebalance", "Rebalance", "audit LOG", [["timestamp", "who"]]),  # a header that is not corrlev-xl's
    ("refresh_correlations", "Refresh correlations", "Corr snapshots", [["my correlations"]]),
    ("refresh_correlations", "Refresh correlations", "corr Snapshots", [["correlation snapshot of mine"]]),
    ("risk_report", "Risk report", "Risk report", [["my risk report"]]),
    ("risk_report", "Risk report", "RISK REPORT", [["corrlev-xl risk report, but typed by me"]]),
])
def test_a_users_sheet_with_an_output_name_is_never_touched(script, what, title, rows):
    data = desk(extra_sheets={title: rows}, pictures={title: ["my logo"]})
    _, actions = run(script, data)
    (alert,) = actions  # nothing but the message: no cell, sheet or picture touched
    assert alert["func"] == "alert" and alert["args"][1] == "corrlev-xl: nothing was changed"
    assert re.search(REFUSED.format(re.escape(title), re.escape(title), what), alert["args"][0]), alert["args"][0]
    assert after(data, actions).state() == after(data, []).state()


def test_corrlevs_own_sheet_is_found_in_any_case():
    own = [[layouts.PROPOSAL_TITLE, ""], ["stale", 1.0]]
    log = [layouts.AUDIT_HEADER, ["2026-01-01 09:00:00", "abc", "within cap", 2.0] + [1.0] * 6 + ["none"]]
    data = desk(extra_sheets={"proposal": own, "AUDIT LOG": log})
    _, actions = run("rebalance", data)
    assert [a["func"] for a in actions] == ["sheetClearContents", "setValues", "setValues"]
    excel = after(data, actions)
    assert [s.name for s in excel.sheets] == ["Book", "Prices", "proposal", "AUDIT LOG"]
    assert excel.sheet("proposal").cells[(0, 0)] == layouts.PROPOSAL_TITLE
    assert excel.sheet("AUDIT LOG").cells[(2, 2)] == "rebalanced"  # the third row, under the earlier one


def test_an_earlier_snapshot_sheet_is_appended_to():
    _, first = run("refresh_correlations", desk())
    snap = first[-1]["values"]
    _, actions = run("refresh_correlations", desk(extra_sheets={"Corr snapshots": snap}))
    assert [a["func"] for a in actions] == ["setValues"] and actions[0]["start_row"] == len(snap) + 1


def _with_prices(data, extra_header, column):
    """``data`` with one more PriceHistory column headed ``extra_header`` (values of instrument ``column``)."""
    data = copy.deepcopy(data)
    prices = data["sheets"][1]["values"]
    for k, row in enumerate(prices):
        row.append(extra_header if k == 0 else (row[1 + column] * 1.01 if row[1 + column] != "" else ""))
    (name,) = [n for n in data["names"] if n["name"] == N.NAME_PRICES]
    name["address"] = re.sub(r"N(\d+)$", r"O\1", name["address"])
    name["refers_to"] = f"=Prices!{name['address']}"
    return data


@pytest.mark.parametrize("header", ["USDJPY", " USDJPY", "usdjpy"])
@pytest.mark.parametrize("script", ["rebalance", "refresh_correlations"])
def test_two_price_columns_for_one_instrument_are_refused(script, header):
    _, actions = run(script, _with_prices(desk(), header, 0))
    (alert,) = actions
    quoted = "'USDJPY'" if header.strip() == "USDJPY" else f"'USDJPY' and '{header.strip()}'"
    assert f"columns 1 and 14 are both headed {quoted}; keep one column per header" in alert["args"][0]
    assert "named range PriceHistory (Prices!$B$1:$O$" in alert["args"][0]


@pytest.mark.parametrize("extra", ["Units", "units ", "LOT SIZE"])
def test_two_instrument_columns_with_one_header_are_refused(extra):
    head = list(N.INSTRUMENT_COLUMNS)
    head[-1] = extra  # the Notional column (unused) headed like another
    _, actions = run("rebalance", desk(head=head))
    (alert,) = actions
    first = N.INSTRUMENT_COLUMNS.index(N.COL_LOT if extra == "LOT SIZE" else N.COL_UNITS) + 1
    assert re.search(rf"table Instruments \(Book!\$A\$1:\$H\$14\): columns {first} and 8 are both headed ",
                     alert["args"][0]), alert["args"][0]


# --------------------------------------------------------------------------- #
# the report's copy


def _copy(sheets):
    wb = openpyxl.Workbook()
    wb.active.title = "Book"
    for title, rows in sheets.items():
        ws = wb.create_sheet(title) if title != "chart" else wb.create_chartsheet("Report")
        for row in rows:
            ws.append(row)
    return wb


@pytest.mark.parametrize(("title", "rows"), [
    ("Report", [["my own report"]]),
    ("report", [["Q3 numbers", 1.0]]),
    ("REPORT", []),
    ("Proposal", [["my own proposal"]]),
    ("proposal", [["x"]]),
    ("Audit log", [["date", "amount"], [1.0, 2.0]]),
    ("audit log", []),
    ("chart", []),  # a chart sheet called Report
])
def test_the_report_refuses_a_users_sheet_with_an_output_name(title, rows):
    wb = _copy({title: rows})
    before = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    shown = "Report" if title == "chart" else title
    with pytest.raises(CorrLevError, match=REFUSED.format(shown, shown, "corrlev-xl report")):
        report_sheets.write_results(wb, analysis(list(sample_book().symbols)), WHEN)
    assert [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets] == before


def test_the_report_replaces_its_own_sheets_in_place_in_any_case():
    a = analysis(list(sample_book().symbols))
    wb = openpyxl.Workbook()
    report_sheets.write_results(wb, a, WHEN)
    for ws in wb.worksheets[1:]:  # as a user might have renamed them (openpyxl refuses a case-only rename)
        title, ws.title = ws.title, "tmp"
        ws.title = title.lower()
    report_sheets.write_results(wb, a, WHEN + dt.timedelta(days=1))
    assert wb.sheetnames == ["Sheet", "report", "proposal", "audit log"]
    assert wb["report"]["B1"].value == "2026-12-02 09:30:00"
    assert [r[0] for r in wb["audit log"].iter_rows(values_only=True)] == [
        "timestamp", "2026-12-01 09:30:00", "2026-12-02 09:30:00"]


def test_the_report_command_names_the_sheet_and_writes_nothing(tmp_path, capsys):
    src = renamed_desk(tmp_path / "desk.xlsx", list(sample_book().symbols), sheets={"report": [["my notes"]]})
    out = tmp_path / "out.xlsx"
    assert cli.main(["report", str(src), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "the workbook has a sheet 'report' that corrlev-xl did not write" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx"]  # no copy, no temporary file left
