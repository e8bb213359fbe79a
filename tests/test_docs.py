"""The docs stay in step with the code, and stand alone."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from corrlev_xl import udfs

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "functions.md").read_text(encoding="utf-8")


def cell_functions():
    return {n: f for n, f in inspect.getmembers(udfs, inspect.isfunction) if hasattr(f, "__xlfunc__")}


def test_spec_functions_all_exist():
    spec = ("EFFLEV CLM HEDGERATIO NOMLEV PORTVOL RISKCONTRIB COVMATRIX CORRMATRIX RETURNS VOL ATR "
            "BASKETS BASKETLEV HEADROOM REBALANCE PAIRVAR LOTS SPREAD ROLLCORR CORRBREAK CCYEXPOSURE "
            "LEVMODEL NOTIONAL").split()
    assert set(spec) <= set(cell_functions())


def test_every_function_is_in_the_reference_with_its_arguments():
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z]+)\(([^)]*)\)`", REFERENCE, re.M)}
    assert set(rows) == set(cell_functions())
    for name, fn in cell_functions().items():
        documented = [a.strip(" []…,") for a in rows[name].split(",") if a.strip(" []…,")]
        params = list(inspect.signature(fn).parameters)
        assert documented == params[: len(documented)], name  # a prefix: "…" may stand for the rest
        assert re.search(rf"`={name}\(", REFERENCE), f"{name} has no example"


THIS = Path(__file__).resolve()
SHIPPED = ["README.md", "pyproject.toml", "docs", "corrlev_xl", "workbook_templates", "benchmarks", "tests", ".ci"]


def test_nothing_shipped_points_outside_the_repository():
    """Users have only the repository: no reference to the developers' private notes."""
    for top in SHIPPED:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if path.is_file() and path.suffix in {".md", ".py", ".toml", ".bas", ".txt", ""} and path != THIS:
                text = path.read_text(encoding="utf-8", errors="replace")
                for needle in ("../shared", "SPEC.md", "STYLE.md", "seeds/"):
                    assert needle not in text, f"{path.relative_to(ROOT)} mentions {needle}"


def test_every_docs_link_resolves():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+?\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"
