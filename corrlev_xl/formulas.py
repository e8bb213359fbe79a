"""``corrlev-xl formulas``: a copy of a workbook whose corrlev-xl formulas call the other runtime's functions.

The classic add-in's cell functions are plain names, ``=EFFLEV(...)``;
xlwings Server's carry the add-in's namespace, ``=CORRLEV.EFFLEV(...)``
(:data:`corrlev_xl.server.NAMESPACE`).  A workbook moving between the two is
converted here, both ways, instead of by hand.

In the file, Excel stores an Office.js add-in's function as
``_xldudf_CORRLEV_EFFLEV(...)`` and shows it as ``=CORRLEV.EFFLEV(...)`` once
the add-in has loaded; so that is what ``--to server`` writes.  ``--to
classic`` reads that form, the typed one (``CORRLEV.EFFLEV``) and the
development server's (``CORRLEV_DEV``).

Every function of :mod:`corrlev_xl.udfs` is converted wherever a formula
calls it — nested calls, array formulas, defined names, a table's
calculated columns, conditional formats and validations — and nothing
else: text in quotes, sheet names, table references, another workbook's
functions (``[1]!EFFLEV``) and every cell that holds text are left as they
are, so text never becomes a formula.  The copy is the input's zip
with only those formula elements rewritten (formats, charts, macros and
stored values all kept), written with the report's safe output
(:mod:`corrlev_xl.files`); the input is never changed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import files
from .core import CorrLevError
from .server import NAMESPACE

Runtime = Literal["server", "classic"]
RUNTIMES: tuple[Runtime, ...] = ("server", "classic")

FILE_PREFIX = "_xldudf_"
"""How an xlsx file marks a function of an Office.js add-in: ``_xldudf_<NAMESPACE>_<NAME>``."""

NAMESPACES = (NAMESPACE + "_DEV", NAMESPACE)
"""The namespaces read as corrlev-xl's: the development server's, then production's (longest first)."""

FORMULA_ELEMENTS = ("f", "formula", "formula1", "formula2", "definedName", "calculatedColumnFormula",
                    "totalsRowFormula")
"""The elements whose text is a formula: cells, conditional formats, validations, names, table columns."""

_ELEMENT = re.compile(
    r"<(?P<tag>(?:[A-Za-z_][\w.-]*:)?(?:" + "|".join(FORMULA_ELEMENTS) + r"))"
    r"(?P<attrs>\s[^<>]*?)?(?<!/)>(?P<body>[^<]*)</(?P=tag)>")
_PARTS = re.compile(r"xl/(?:workbook\.xml|(?:worksheets|macrosheets|dialogsheets|tables)/[^/]+\.xml)", re.I)


def _functions() -> frozenset[str]:
    from .excel.udfs import __all__ as names

    return frozenset(names)


@dataclass
class Tally:
    """What a conversion changed: calls rewritten and calls already in the target form, by function."""

    converted: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    formulas: int = 0  # formulas (cells, names …) with at least one call rewritten

    def add(self, other: Tally) -> None:
        self.converted += other.converted
        self.already += other.already
        self.formulas += other.formulas


def _ours(name: str, functions: frozenset[str]) -> tuple[str, Runtime] | None:
    """The corrlev-xl function that identifier ``name`` calls and in which runtime's form, else None."""
    up = name.upper()
    if up in functions:
        return up, "classic"
    for ns in NAMESPACES:
        for head in (f"{FILE_PREFIX.upper()}{ns}_", f"{ns}."):
            if up.startswith(head) and up[len(head):] in functions:
                return up[len(head):], "server"
    return None


def function_of(identifier: str) -> str | None:
    """The corrlev-xl function that ``identifier`` calls in a formula, in either runtime's spelling, else None.

    ``EFFLEV``, ``CORRLEV.EFFLEV``, ``_xldudf_CORRLEV_EFFLEV`` and the
    development server's ``CORRLEV_DEV`` forms all give ``"EFFLEV"``; a
    reader of formulas (such as the headless report's) can use it to treat a
    converted workbook like a classic one.
    """
    found = _ours(identifier, _functions())
    return found[0] if found else None


def _spelled(function: str, to: Runtime) -> str:
    return f"{FILE_PREFIX}{NAMESPACE}_{function}" if to == "server" else function


def _name_char(c: str) -> bool:
    return c.isalnum() or c in "_.\\"


def _skip_quoted(text: str, i: int) -> int:
    """The end of the quoted run at ``text[i]``: ``"…"`` text or a ``'…'`` sheet name (a doubled quote escapes)."""
    q, j = text[i], i + 1
    while True:
        k = text.find(q, j)
        if k < 0:
            return len(text)
        if text.startswith(q, k + 1):
            j = k + 2
            continue
        return k + 1


def _skip_brackets(text: str, i: int) -> int:
    """The end of the bracketed run starting at ``text[i]`` (a table reference or a workbook index)."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == "'":  # escapes the next character inside a structured reference
            j += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(text)


def convert_formula(text: str, to: Runtime, functions: frozenset[str] | None = None) -> tuple[str, Tally]:
    """``text`` (a formula, with or without its ``=``) with corrlev-xl's calls in ``to``'s form."""
    functions = _functions() if functions is None else functions
    tally = Tally()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = _skip_quoted(text, i)
        elif c == "[":
            j = _skip_brackets(text, i)
        elif _name_char(c):
            j = i
            while j < n and _name_char(text[j]):
                j += 1
            word = text[i:j]
            qualified = i > 0 and text[i - 1] == "!"  # another workbook's (or sheet's) name
            found = _ours(word, functions) if text.startswith("(", j) and not qualified else None
            if found and (c.isalpha() or c == "_"):
                function, form = found
                if form == to and word.upper() == _spelled(function, to).upper():
                    tally.already[function] += 1
                else:
                    word = _spelled(function, to)
                    tally.converted[function] += 1
            out.append(word)
            i = j
            continue
        else:
            j = i + 1
        out.append(text[i:j])
        i = j
    if tally.converted:
        tally.formulas = 1
    return "".join(out), tally


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def convert_part(xml: bytes, to: Runtime, functions: frozenset[str] | None = None) -> tuple[bytes, Tally]:
    """One XML part of a workbook with the formulas of its formula elements converted."""
    functions = _functions() if functions is None else functions
    tally = Tally()
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError:  # not a part Excel writes; leave it alone
        return xml, tally

    def one(m: re.Match[str]) -> str:
        body = m.group("body")
        new, t = convert_formula(html.unescape(body), to, functions)
        tally.add(t)
        if not t.converted:
            return m.group(0)
        return f"<{m.group('tag')}{m.group('attrs') or ''}>{_escape(new)}</{m.group('tag')}>"

    new = _ELEMENT.sub(one, text)
    return (new.encode("utf-8") if tally.converted else xml), tally


def convert_book(data: bytes, to: Runtime) -> tuple[bytes, Tally]:
    """The workbook whose file is ``data`` with its formulas converted, as the bytes of a new file."""
    functions = _functions()
    tally = Tally()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if _PARTS.fullmatch(info.filename):
                part, t = convert_part(part, to, functions)
                tally.add(t)
            dst.writestr(info, part)
    return out.getvalue(), tally


def _counts(c: Counter[str]) -> str:
    return ", ".join(f"{name} {k}" for name, k in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def _form(to: Runtime) -> str:
    return f"={NAMESPACE}.EFFLEV(…)" if to == "server" else "=EFFLEV(…)"


def run(workbook: Path, out: str | Path | None, *, to: Runtime, force: bool = False,
        limits: files.Limits | None = None, when: dt.datetime | None = None) -> int:
    """The ``formulas`` command; returns the process exit code."""
    if to not in RUNTIMES:
        raise CorrLevError(f"--to must be one of {', '.join(RUNTIMES)}; got {to!r}")
    src = Path(workbook)
    limits = limits or files.Limits.from_env()
    when = when or dt.datetime.now().replace(microsecond=0)
    data = files.read_input(src, limits)
    converted, tally = convert_book(data, to)
    if not tally.converted:
        already = sum(tally.already.values())
        why = (f"its {already} corrlev-xl call(s) already read {_form(to)}" if already
               else "it calls no corrlev-xl function")
        raise CorrLevError(f"{files.shown(src)}: nothing to convert to the {to} form, {why}; nothing was written")
    with files.output_for(src, out, force=force, when_text=when.strftime("%Y%m%d-%H%M%S"), kind=to) as target:
        target.temp.write_bytes(converted)
        dest = target.publish()
    print(summary(tally, to))
    print(f"\nConverted copy written to {dest} (the input {src.name} is unchanged).")
    return 0


def summary(tally: Tally, to: Runtime) -> str:
    lines = [f"corrlev-xl formulas — {sum(tally.converted.values())} call(s) in {tally.formulas} formula(s) "
             f"now read {_form(to)}: {_counts(tally.converted)}"]
    if tally.already:
        lines.append(f"already in that form: {_counts(tally.already)}")
    if to == "server":
        lines.append(f"Excel shows them as ={NAMESPACE}.NAME(…) once the corrlev-xl add-in of xlwings Server "
                     "has loaded (the file stores _xldudf_" + NAMESPACE + "_NAME).")
    return "\n".join(lines)

