"""Input checks shared by the core: one exception type, one message style.

Every message says what is wrong, where, and what was expected, in words a
desk user can act on: ``"equity must be a positive number (account currency);
got -5"``.  The Excel layer shows ``str(error)`` in the cell as it is.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ._types import FloatArray

_O = TypeVar("_O", bound=str)


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


def choice(value: object, name: str, options: Sequence[_O]) -> _O:
    """The one of ``options`` that ``value`` is, ignoring case and surrounding blanks.

    Examples
    --------
    >>> choice(" EWMA ", "method", ("sample", "ewma"))
    'ewma'
    """
    key = str(value).strip().lower()
    for option in options:
        if option == key:
            return option
    listed = ", ".join(repr(o) for o in options)
    raise fail(name, f"one of {listed}", value)


def _number(value: Any, name: str, expected: str, ok: Callable[[float], bool]) -> float:
    """``float(value)`` if it is finite and ``ok``; else the standard message with ``expected``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise fail(name, expected, value) from None
    if not (math.isfinite(x) and ok(x)):
        raise fail(name, expected, value)
    return x


def positive(value: float, name: str, unit: str = "") -> float:
    """A finite number > 0."""
    return _number(value, name, f"a positive number{unit}", lambda x: x > 0)


def nonnegative(value: float, name: str, unit: str = "") -> float:
    """A finite number >= 0."""
    return _number(value, name, f"a number >= 0{unit}", lambda x: x >= 0)


def integer(value: float, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum``."""
    return int(_number(value, name, f"a whole number >= {minimum}", lambda x: x == int(x) and x >= minimum))


def window(value: float, rows: int, name: str = "window") -> int:
    """A trailing window of at least 2 rows that fits in ``rows`` return rows.

    A window longer than the history is refused, not clamped: the figure
    would silently cover fewer rows than the user asked for.
    """
    w = integer(value, name, 2)
    if w > rows:
        raise CorrLevError(
            f"{name} is {w} rows but the history has {rows} return rows; "
            f"use at most {rows} or leave it blank"
        )
    return w


def unit_interval(value: float, name: str, *, open_low: bool = True) -> float:
    """A number in (0, 1) (or [0, 1) with ``open_low=False``)."""
    if open_low:
        return _number(value, name, "a number strictly between 0 and 1", lambda x: 0 < x < 1)
    return _number(value, name, "a number in [0, 1)", lambda x: 0 <= x < 1)


def vector(x: object, name: str, *, allow_nan: bool = False) -> FloatArray:
    """A 1-D float array from a list, a row, a column or a 1×1 block.

    ``allow_nan`` lets blanks (NaN) through; infinities are refused either way.
    """
    if type(x) is np.ndarray and x.ndim == 1 and x.dtype.char == "d" and x.size and not allow_nan:
        if np.isfinite(x).all():  # the common case of a core caller: an array of floats already
            return x
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


COV_TOL = 1e-8
"""The one tolerance of every covariance check, on the correlation scale.

Used by :func:`covariance_matrix` (symmetry ``|Σ_ij − Σ_ji| <= COV_TOL·σ_iσ_j``,
correlations within ``±(1 + COV_TOL)``, positive semi-definite when the
correlation matrix plus ``COV_TOL·I`` has a Cholesky factor) and by the
estimators' own positive-semi-definiteness decision
(:mod:`corrlev_xl.core.covariance`), so what an estimator returns unrepaired a
cell function accepts, and what it repairs a cell function would refuse.

Why 1e-8: a matrix whose correlations are consistent up to rounding (a spill
read back, a matrix typed to 15 digits, a Higham repair whose eigenvalues are
clipped to 0) misses by ~1e-15 per entry, so it passes with a wide margin; a
matrix that fails by more gives some book a variance below
``−COV_TOL·(Σ|n_i|σ_i)²`` — a real inconsistency (pairwise estimates on gappy
data miss by 1e-5 to 1e-1), not rounding.
"""

@dataclass(frozen=True)
class CheckedCov:
    """What the core keeps about a covariance matrix :func:`covariance_matrix` returned.

    ``ref`` is a weak reference to that (read-only) matrix (called, it gives
    the matrix, or None once it is gone); ``scale`` the power of two near its
    largest variance (even exponent, see :func:`pow2_scale`) and
    ``root_scale`` its square root; ``sigma`` the volatilities in units of
    ``root_scale`` (read-only).  Computed once per matrix.
    """

    ref: Callable[[], FloatArray | None]
    scale: float
    root_scale: float
    sigma: FloatArray


# Matrices this module has checked and returned, by identity, each with its CheckedCov;
# an entry leaves when its matrix is garbage collected (the weak reference's callback),
# so the memo holds no matrix alive and never outgrows the matrices in use.  The matrices
# are read-only views of an immutable buffer: neither they nor their base can be made
# writeable again, so a checked matrix cannot change after its check.  A writeable array,
# or any other object, is never found here and is checked on every call.
_CHECKED: dict[int, CheckedCov] = {}


def checked(cov: object) -> CheckedCov | None:
    """The :class:`CheckedCov` of a matrix :func:`covariance_matrix` returned, else None (O(1))."""
    entry = _CHECKED.get(id(cov))
    return entry if entry is not None and entry.ref() is cov else None


def _remember(arr: FloatArray) -> FloatArray:
    """A read-only copy of a checked matrix that cannot be made writeable, remembered with its facts."""
    n = arr.shape[0]
    # A view of a bytes object: numpy refuses to make it (or its base) writeable, and
    # it shares no memory with the caller's array.
    out: FloatArray = np.frombuffer(np.ascontiguousarray(arr, dtype=float).tobytes(), dtype=float)
    out = out.reshape(n, n)
    var = np.diag(out)
    scale = pow2_scale(float(var.max()), even=True)
    sigma = np.sqrt(var / scale)
    sigma.flags.writeable = False
    key = id(out)

    def forget(ref: weakref.ref[FloatArray]) -> None:
        entry = _CHECKED.get(key)
        if entry is not None and entry.ref is ref:
            del _CHECKED[key]

    _CHECKED[key] = CheckedCov(weakref.ref(out, forget), scale, math.sqrt(scale), sigma)
    return out


def checked_covariance(
    cov: object, name: str = "cov", *, names: Sequence[str] | None = None
) -> tuple[FloatArray, CheckedCov]:
    """:func:`covariance_matrix` (``psd=True``) and the matrix's :class:`CheckedCov`.

    A matrix this module returned before is handed back as it is, in O(1).
    """
    entry = checked(cov)
    if entry is not None:
        return cov, entry  # type: ignore[return-value]  # checked() found it: an ndarray
    out = covariance_matrix(cov, name, names=names)
    entry = checked(out)
    assert entry is not None
    return out, entry


def covariance_matrix(
    cov: object,
    name: str = "cov",
    *,
    names: Sequence[str] | None = None,
    psd: bool = True,
    hint: str = "",
) -> FloatArray:
    """A valid covariance matrix, or a message naming the instrument, row and column.

    The one covariance check of corrlev-xl: the core functions and the Excel
    layer all call it.  In order: finite numbers, square, variances >= 0,
    symmetric, and (``psd=True``) a variance of 0 only with covariances of 0,
    correlations within -1 and 1, positive semi-definite — every comparison
    with the one tolerance :data:`COV_TOL` on the correlation scale.

    Parameters
    ----------
    cov : array-like of shape (N, N)
    name : str, default "cov"
        The argument's name in messages.
    names : sequence of str, optional
        Instrument names for messages (default ``instrument 1``, …).
    psd : bool, default True
        False checks the shape, the diagonal and the symmetry only (for a
        matrix about to be repaired, or one that is only normalised).
    hint : str, optional
        Appended to the message of a matrix that is not symmetric: what the
        caller may have meant instead.

    Returns
    -------
    ndarray of shape (N, N)
        Exactly symmetric (the mean of the matrix and its transpose when they
        differ within the tolerance).  With ``psd=True`` it is a read-only
        copy that cannot be made writeable again (nor can its base) and shares
        no memory with ``cov``; it is remembered by identity, so passing this
        very array to another core function costs no second check.  Any other
        array, a writeable one above all, is checked on every call: a matrix
        changed after its check is checked again.

    Examples
    --------
    >>> covariance_matrix([[4e-4, 1e-4], [1e-4, 9e-4]])
    array([[0.0004, 0.0001],
           [0.0001, 0.0009]])
    >>> try:
    ...     covariance_matrix([[1e-4, 2e-4], [2e-4, 1e-4]], names=["NAS100", "SP500"])
    ... except CorrLevError as err:
    ...     print(err)
    cov implies a correlation of 2 between NAS100 and SP500 (row 1, column 2); correlations must be within -1 and 1
    """
    if checked(cov) is not None:
        return cov  # type: ignore[return-value]  # checked() found it: an ndarray
    arr = matrix(cov, name)
    n, m = arr.shape
    if n != m:
        raise CorrLevError(f"{name} must be a square matrix (one row and one column per instrument); got {n}×{m}")

    def who(i: int) -> str:
        return instrument(names, i)

    var = np.diag(arr)
    if (var < 0).any():
        k = int(np.flatnonzero(var < 0)[0])
        raise CorrLevError(
            f"{name} has the variance {var[k]:.6g} for {who(k)} (row {k + 1}, column {k + 1}); "
            "variances on the diagonal must be >= 0"
        )
    d = np.sqrt(var)
    if not np.array_equal(arr, arr.T):  # the usual case (an estimate or a spill) is exactly symmetric
        excess = np.abs(arr - arr.T) - COV_TOL * np.outer(d, d)
        if (excess > 0).any():
            i, j = sorted(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))
            raise CorrLevError(
                f"{name} is not symmetric: row {i + 1}, column {j + 1} = {arr[i, j]:.6g} but row {j + 1}, "
                f"column {i + 1} = {arr[j, i]:.6g}; a covariance matrix must be symmetric{hint}"
            )
        arr = arr + arr.T
        arr *= 0.5  # (arr + arr.T) / 2, exactly symmetric
    if not psd:
        return arr
    live = d > 0
    if not live.all():
        flat = np.flatnonzero(~live)
        off = arr[flat]
        if off.any():
            r, j = (int(k) for k in np.argwhere(off != 0)[0])
            i = int(flat[r])
            raise CorrLevError(
                f"{name} gives {who(i)} a variance of 0 but a covariance of {arr[i, j]:.6g} with "
                f"{who(j)}; that is not a valid covariance matrix"
            )
    idx = np.flatnonzero(live)
    if idx.size:
        sub = arr if idx.size == n else arr[np.ix_(idx, idx)]
        corr = sub / np.outer(d[idx], d[idx])
        k = int(np.argmax(np.abs(corr)))
        if abs(corr.flat[k]) > 1 + COV_TOL:
            i, j = (int(idx[x]) for x in divmod(k, idx.size))
            raise CorrLevError(
                f"{name} implies a correlation of {corr.flat[k]:.4g} between {who(i)} and {who(j)} "
                f"(row {i + 1}, column {j + 1}); correlations must be within -1 and 1"
            )
        low = not_psd(corr)
        if low is not None:
            raise CorrLevError(
                f"{name} is not positive semi-definite (its correlations are inconsistent: smallest "
                f"eigenvalue {low:.3g}), so some book would get a negative variance; use a COVMATRIX "
                "spill, which repairs this"
            )
    return _remember(arr)  # a copy: the caller's own array is never frozen nor shared


def instrument(names: Sequence[str] | None, i: int) -> str:
    """How messages name instrument ``i`` (0-based): its name, else ``instrument i+1``."""
    if names is not None and i < len(names):
        return str(names[i])
    return f"instrument {i + 1}"


def too_few_returns(
    names: Sequence[str] | None, i: int, count: int, needed: int, *, other: int | None = None
) -> CorrLevError:
    """The message for an instrument (or a pair, with ``other``) with too few returns."""
    what = (
        f"{instrument(names, i)} has only {count} return(s)"
        if other is None or other == i
        else f"{instrument(names, i)} and {instrument(names, other)} share only {count} return date(s)"
    )
    return CorrLevError(f"{what}; at least {needed} are needed — supply a longer price history")


def ewma_weights(T: int, lam: float) -> FloatArray:
    """RiskMetrics weights ``λ^age`` of ``T`` rows, oldest first (the last row has weight 1)."""
    out: FloatArray = lam ** np.arange(T - 1, -1, -1, dtype=float)
    return out


def not_psd(corr: FloatArray) -> float | None:
    """``None`` if a correlation matrix is positive semi-definite within :data:`COV_TOL`.

    Otherwise its smallest eigenvalue.  The decision is a Cholesky
    factorisation of ``corr + COV_TOL·I`` (it exists exactly when every
    eigenvalue is above ``-COV_TOL``); the eigenvalues are computed only when
    it fails.  The one decision behind :func:`covariance_matrix` and the
    estimators' repair.

    Examples
    --------
    >>> not_psd(np.array([[1.0, 0.5], [0.5, 1.0]])) is None
    True
    >>> round(not_psd(np.array([[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1]])), 3)
    -0.8
    """
    jittered = corr + COV_TOL * np.eye(corr.shape[0])
    try:
        np.linalg.cholesky(jittered)
        return None
    except np.linalg.LinAlgError:
        return float(np.linalg.eigvalsh(corr)[0])


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
    pos, sigma, _ = book(n, cov)
    return pos, sigma


def book(n: object, cov: object, *, names: Sequence[str] | None = None) -> tuple[FloatArray, FloatArray, CheckedCov]:
    """:func:`positions_and_cov`, and the matrix's :class:`CheckedCov` (``names``: the instruments, for messages)."""
    pos = vector(n, "positions")
    sigma, facts = checked_covariance(cov, names=names)
    if pos.size != sigma.shape[0]:
        k = sigma.shape[0]
        raise CorrLevError(
            f"positions has {pos.size} values but the covariance matrix is {k}×{k}; "
            "expected one position per instrument"
        )
    return pos, sigma, facts


def pow2_scale(x: float, *, even: bool = False) -> float:
    """A power of two near ``x`` (1 for 0 or a non-finite ``x``), to compute in scaled units.

    Dividing by a power of two is exact, so figures computed on ``n / k`` and
    scaled back are bit for bit those of ``n`` — except that they neither
    overflow for notionals of 1e300 nor underflow for variances of 1e-300.
    ``even`` gives an even exponent, so that its square root is a power of
    two too (for variances).
    """
    if not (math.isfinite(x) and x > 0):
        return 1.0
    e = min(max(math.frexp(x)[1], -1020), 1022)  # 2**e and 1/2**e both normal floats
    if even:
        e -= e % 2
    return math.ldexp(1.0, e)


def _shape(arr: np.ndarray) -> str:
    return "×".join(str(s) for s in arr.shape)
