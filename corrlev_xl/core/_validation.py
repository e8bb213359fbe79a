"""Input checks shared by the core: one exception type, one message style.

Every message says what is wrong, where, and what was expected, in words a
desk user can act on: ``"equity must be a positive number (account currency);
got -5"``.  The Excel layer shows ``str(error)`` in the cell as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._types import FloatArray


class CorrLevError(ValueError):
    """Bad input to a corrlev-xl function; the message is meant for the user."""


class CovarianceRepairedWarning(UserWarning):
    """The covariance estimate was not positive semi-definite and was repaired.

    Silence with ``warnings.simplefilter("ignore", CovarianceRepairedWarning)``
    or pass ``psd="raise"`` to refuse such estimates instead.
    """


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def fail(name: str, expected: str, got: object | None = None) -> CorrLevError:
    """Build the standard error: ``"<name> must be <expected>; got <got>"``."""
    tail = "" if got is None else f"; got {_fmt(got)}"
    return CorrLevError(f"{name} must be {expected}{tail}")


def choice(value: str, name: str, options: Sequence[str]) -> str:
    """Return ``value`` lower-cased if it is one of ``options``."""
    key = str(value).strip().lower()
    if key not in options:
        listed = ", ".join(repr(o) for o in options)
        raise fail(name, f"one of {listed}", value)
    return key


def positive(value: float, name: str, unit: str = "") -> float:
    """A finite number > 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise fail(name, f"a positive number{unit}", value) from None
    if not np.isfinite(x) or x <= 0:
        raise fail(name, f"a positive number{unit}", value)
    return x


def nonnegative(value: float, name: str, unit: str = "") -> float:
    """A finite number >= 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise fail(name, f"a number >= 0{unit}", value) from None
    if not np.isfinite(x) or x < 0:
        raise fail(name, f"a number >= 0{unit}", value)
    return x


def integer(value: float, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise fail(name, f"a whole number >= {minimum}", value) from None
    if not np.isfinite(x) or x != int(x) or x < minimum:
        raise fail(name, f"a whole number >= {minimum}", value)
    return int(x)


def unit_interval(value: float, name: str, *, open_low: bool = True) -> float:
    """A number in (0, 1) (or [0, 1) with ``open_low=False``)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise fail(name, "a number strictly between 0 and 1", value) from None
    low_ok = x > 0 if open_low else x >= 0
    if not (np.isfinite(x) and low_ok and x < 1):
        bounds = "strictly between 0 and 1" if open_low else "in [0, 1)"
        raise fail(name, f"a number {bounds}", value)
    return x


def vector(x: object, name: str, *, allow_nan: bool = False) -> FloatArray:
    """A 1-D float array from a list, a row, a column or a 1×1 block.

    ``allow_nan`` lets blanks (NaN) through; infinities are refused either way.
    """
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise fail(name, "numbers only", "text or an empty value") from None
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    elif arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise fail(name, "a single row or column of numbers", f"a {_shape(arr)} block")
    if arr.size == 0:
        raise fail(name, "at least one number", "nothing")
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0]) + 1
        raise fail(name, "numbers without blanks", f"a blank or non-number at item {bad}")
    if allow_nan and np.isinf(arr).any():
        bad = int(np.flatnonzero(np.isinf(arr))[0]) + 1
        raise CorrLevError(f"{name} must be finite numbers; got infinity at item {bad}")
    return arr


def matrix(x: object, name: str, *, allow_nan: bool = False, min_rows: int = 1) -> FloatArray:
    """A 2-D float array; a 1-D input becomes a single column.

    ``allow_nan`` lets blanks (NaN) through; infinities are refused either way.
    """
    return matrix_and_blanks(x, name, allow_nan=allow_nan, min_rows=min_rows)[0]


def matrix_and_blanks(
    x: object, name: str, *, allow_nan: bool = False, min_rows: int = 1
) -> tuple[FloatArray, bool]:
    """:func:`matrix`, and whether it has any blank (saves callers a second pass)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise fail(name, "numbers only", "text or an empty value") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise fail(name, "a 2-D block of numbers", f"{arr.ndim} dimensions")
    if arr.shape[0] < min_rows or arr.shape[1] == 0:
        raise fail(name, f"at least {min_rows} rows and 1 column", f"a {_shape(arr)} block")
    if np.isfinite(arr).all():  # the common case: one pass
        return arr, False
    if not allow_nan:
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise fail(name, "numbers without blanks", f"a blank or non-number at row {r + 1}, column {c + 1}")
    if np.isinf(arr).any():
        r, c = np.argwhere(np.isinf(arr))[0]
        raise CorrLevError(f"{name} must be finite numbers; got infinity at row {r + 1}, column {c + 1}")
    return arr, True


def covariance_matrix(cov: object, name: str = "cov") -> FloatArray:
    """A finite, square, symmetric matrix with a non-negative diagonal."""
    arr = matrix(cov, name)
    n, m = arr.shape
    if n != m:
        raise fail(name, "a square matrix (one row and one column per instrument)", f"{n}×{m}")
    if np.any(np.diag(arr) < 0):
        k = int(np.flatnonzero(np.diag(arr) < 0)[0]) + 1
        raise fail(name, "a matrix with variances >= 0 on its diagonal", f"{arr[k - 1, k - 1]:.6g} at item {k}")
    if np.array_equal(arr, arr.T):  # the usual case (an estimate or a COVMATRIX spill), and cheap
        return arr
    absolute = np.abs(arr)
    scale = max(float(absolute.max()), np.finfo(float).tiny)
    # np.allclose(arr, arr.T, rtol=1e-8, atol=1e-12·scale) for finite input, in fewer passes.
    gap = arr - arr.T
    np.abs(gap, out=gap)
    if not (gap <= 1e-12 * scale + 1e-8 * absolute.T).all():
        i, j = np.unravel_index(np.argmax(np.abs(arr - arr.T)), arr.shape)
        raise fail(
            name,
            "symmetric",
            f"row {i + 1}, column {j + 1} = {arr[i, j]:.6g} but row {j + 1}, column {i + 1} = {arr[j, i]:.6g}",
        )
    out = arr + arr.T
    out *= 0.5  # (arr + arr.T) / 2, exactly
    return out


_TRUE = ("true", "yes", "y", "x", "1")
_FALSE = ("", "false", "no", "n", "0")


def flags(values: object, n: int, name: str) -> np.ndarray:
    """``n`` TRUE/FALSE flags; text yes/no/x and blanks (FALSE) are accepted."""
    arr = np.asarray(values, dtype=object).reshape(-1)
    if arr.size != n:
        raise CorrLevError(f"{name} has {arr.size} values but there are {n} positions")
    out = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr):
        if isinstance(v, str):
            key = v.strip().lower()
            if key not in _TRUE + _FALSE:
                raise CorrLevError(f"{name} must be TRUE/FALSE (or yes/no); got {v!r} at item {i + 1}")
            out[i] = key in _TRUE
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = False
        elif isinstance(v, (bool, np.bool_)) or v in (0, 1):
            out[i] = bool(v)
        else:
            raise CorrLevError(f"{name} must be TRUE/FALSE (or yes/no); got {v!r} at item {i + 1}")
    return out


def positions_and_cov(n: object, cov: object) -> tuple[FloatArray, FloatArray]:
    """Positions (1-D) and a covariance matrix of matching size."""
    pos = vector(n, "positions")
    sigma = covariance_matrix(cov)
    if pos.size != sigma.shape[0]:
        k = sigma.shape[0]
        raise CorrLevError(
            f"positions has {pos.size} values but the covariance matrix is {k}×{k}; "
            "expected one position per instrument"
        )
    return pos, sigma


def _shape(arr: np.ndarray) -> str:
    return "×".join(str(s) for s in arr.shape)
