"""Server logs without cell values: no position, price or text of a workbook reaches them.

xlwings Server logs every error it answers with (``logger.error(exception)``),
and corrlev-xl's messages quote the cell they refuse (``"EFFLEV: equity must
be a positive amount …; got -5"``, ``"… has the text 'abc' at row 3"``) — right
for the user, who sees the message in the cell, wrong for a log file that
collects a whole desk's calls.  :class:`RedactValues` rewrites such records
before any handler writes them:

- a record of corrlev-xl's own logger, an error that xlwings or xlwings
  Server logs, or a record whose message is an exception keeps its words but
  not its values: every number becomes ``#`` and every quoted text ``'…'``,
  and an exception is named by its class (``XlwingsError: EFFLEV: equity
  must be a positive amount in the account currency; got #``);
- a traceback keeps its frames (file, line, code) but not the exception's
  message, which is where values travel.

Everything else (the access log, start-up lines) is left as it is.
:func:`install` puts the filter on the loggers that can carry values, and
:func:`install_on_handlers` on every handler configured so far, which
covers records of any logger; the project folder's ``custom_functions`` and
``lifespan.py`` call both.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Iterator

WATCHED = ("corrlev_xl", "xlwings_server.main", "uvicorn.error", "xlwings.pro.udfs_officejs", "xlwings.server")
"""Loggers whose records may quote cell values; the filter is installed on each."""

WITHHELD = "(message withheld from the log: it may quote cell values)"

_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:[,_]\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?")


def masked(text: str) -> str:
    """``text`` with every quoted text as ``'…'`` and every number as ``#``; its words stay."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", text))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during, oldest first (as Python prints them)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ if current.__cause__ is not None else (
            None if current.__suppress_context__ else current.__context__)
    return reversed(seen)


def traceback_text(exc: BaseException) -> str:
    """The traceback of ``exc`` as Python prints it, each exception named by its class only."""
    parts: list[str] = []
    for i, e in enumerate(_chain(exc)):
        if i:
            parts.append("\nThe above exception led to the following one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(e.__traceback__))
        parts.append(f"{_class_name(e)}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def _class_name(e: BaseException) -> str:
    cls = type(e)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class RedactValues(logging.Filter):
    """Rewrites a record so that it holds no cell value (see the module docstring); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "corrlev_redacted", False):
            return True
        record.corrlev_redacted = True
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = traceback_text(record.exc_info[1])
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = masked(record.exc_text)
        if self._carries_values(record):
            try:
                text = record.getMessage()
            except Exception:  # a malformed record: keep its template, not its arguments
                text = str(record.msg)
            if isinstance(record.msg, BaseException):
                text = f"{type(record.msg).__name__}: {text}"
            record.msg, record.args = masked(text), ()
        return True

    @staticmethod
    def _carries_values(record: logging.LogRecord) -> bool:
        if isinstance(record.msg, BaseException) or record.name.split(".")[0] == "corrlev_xl":
            return True
        return record.levelno >= logging.WARNING and record.name.split(".")[0] in ("xlwings", "xlwings_server")


_FILTER = RedactValues()


def _add(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactValues) for f in target.filters):
        target.addFilter(_FILTER)


def install(names: Iterable[str] = WATCHED) -> None:
    """Put the filter on the loggers ``names`` (idempotent)."""
    for name in names:
        _add(logging.getLogger(name))


def install_on_handlers() -> None:
    """Put the filter on every handler configured so far, of the root logger and all others (idempotent)."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for lg in loggers:
        for handler in lg.handlers:
            _add(handler)
