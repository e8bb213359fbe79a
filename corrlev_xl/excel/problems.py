"""Every problem with a workbook's inputs at once, each with the way to decide it.

Reading a desk workbook checks each input (the positions, the price history,
the equity, each setting) on its own and keeps going after a problem, so a
user fixes them all in one go.  A :class:`Problem` may name the choice that
settles it: the console option (``--positions "Risk!A3:F20"``) and the
defined name that records the same choice inside the workbook
(``CorrLevPositions``), so each caller says it in its own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from ..core import CorrLevError

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One thing to fix or decide: ``input`` (positions, prices, equity …) and what is wrong."""

    input: str
    message: str
    option: str | None = None  # the console option that decides it, e.g. "--positions"
    candidates: tuple[str, ...] = ()  # what was found, each as that option's argument
    name: str | None = None  # the defined name that decides it in the workbook, e.g. "CorrLevPositions"
    hint: str | None = None  # the console's own words for the choice, in place of "choose with OPTION …"

    def line(self, *, excel: bool = False) -> str:
        """The problem as one line of a list: ``input: message`` (the input once, if the message names it)."""
        text = self.text(excel=excel)
        return text if not self.input or text.startswith(self.input) else f"{self.input}: {text}"

    def text(self, *, excel: bool = False) -> str:
        hint = ""
        if self.hint and not excel:
            hint = f"; {self.hint}"
        elif self.option and not excel:
            example = self.candidates[0] if self.candidates else _EXAMPLES.get(self.option, "…")
            hint = f"; choose with {self.option} {_quoted(example)}"
        elif self.name and excel:
            hint = (f"; choose by naming the right cells {self.name} (Formulas > Define Name), "
                    "or run Connect workbook")
        return self.message + hint


_EXAMPLES = {"--positions": "Sheet!A3:F20", "--prices": "Sheet!A1:G500", "--equity": "Sheet!B2",
             "--column": "units=Qty"}


def _quoted(text: str) -> str:
    return f'"{text}"' if any(ch in text for ch in " !'()&;|<>$") else text


class Problems(CorrLevError):
    """Several problems, raised together once every input has been looked at."""

    def __init__(self, items: Sequence[Problem]) -> None:
        self.items = tuple(items)
        self.workbook: str | None = None  # the file, once the caller knows it (the console names it)
        super().__init__(self.text())

    def text(self, *, excel: bool = False) -> str:
        if len(self.items) == 1:
            return self.items[0].text(excel=excel)
        lines = [f"{len(self.items)} problems; nothing was computed or written:"]
        lines += [f"  - {p.line(excel=excel)}" for p in self.items]
        return "\n".join(lines)


@contextmanager
def within(where: str) -> Iterator[None]:
    """A refusal raised inside names ``where`` (the range, column or name) first."""
    try:
        yield
    except CorrLevError as exc:
        raise CorrLevError(f"{where}: {exc}") from None


def text_of(exc: CorrLevError, *, excel: bool = False) -> str:
    """The message of a refusal, in the caller's words (console options or Excel names)."""
    return exc.text(excel=excel) if isinstance(exc, Problems) else str(exc)


class Collector:
    """Gathers problems while each input is checked; :meth:`raise_any` stops before anything is computed."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def attempt(self, input: str, check: Callable[[], T]) -> T | None:
        """``check()``, or None with its refusal recorded (under ``input``)."""
        with self.about(input):
            return check()
        return None

    @contextmanager
    def about(self, input: str) -> Iterator[None]:
        """A refusal inside is recorded, not raised; the code after the block runs on."""
        try:
            yield
        except Problems as exc:
            self.items.extend(exc.items)
        except CorrLevError as exc:
            self.items.append(Problem(input, str(exc)))

    def raise_any(self) -> None:
        if self.items:
            raise Problems(self.items)
