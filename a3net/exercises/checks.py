"""Generic self-checks for the exercises: each prints ``PASS: what`` or ``FAIL: what — hint``.

They return a bool and never raise on a wrong student answer (a wrong shape, NaN or a non-number
is a FAIL with a hint); only bad arguments from the chapter author raise ValueError/TypeError.
Chapter-specific checks in other modules build on these.

With the environment variable ``A3NET_STRICT_CHECKS=1`` (CI on the instructor notebooks, whose
solutions must pass) a FAIL raises :class:`CheckFailed` (an AssertionError) after printing, so
an exercise whose solution drifts from its check stops the notebook.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["CheckFailed", "check", "check_better_than", "check_close", "check_shape", "strict"]

STRICT_ENV = "A3NET_STRICT_CHECKS"


class CheckFailed(AssertionError):
    """A self-check failed while ``A3NET_STRICT_CHECKS`` is set (instructor notebooks in CI)."""


def strict() -> bool:
    """True when ``A3NET_STRICT_CHECKS`` is set to anything but empty, 0, false or no."""
    return os.environ.get(STRICT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _fmt(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if np.issubdtype(arr.dtype, np.number) else repr(arr.item())
    return np.array2string(arr, precision=4, threshold=6, edgeitems=2)


def check(condition, what: str, hint: str = "") -> bool:
    """Print ``PASS: what`` if ``condition`` is true, else ``FAIL: what — hint``; return it as
    bool (or raise :class:`CheckFailed` on a FAIL when ``A3NET_STRICT_CHECKS`` is set).

    ``condition`` must be a single truth value (bool, NumPy or torch scalar); for arrays, pass
    ``np.all(...)`` or ``np.any(...)``.
    """
    if not isinstance(what, str) or not what:
        raise TypeError(
            f"check(): 'what' must be a non-empty str describing the check, got {what!r}."
        )
    if not isinstance(hint, str):
        raise TypeError(f"check(): 'hint' must be a str, got {type(hint).__name__}.")
    if not isinstance(condition, (bool, np.bool_)):
        size = np.size(condition)
        if size != 1:
            raise TypeError(
                f"check(): 'condition' must be a single truth value, got {size} values; "
                "use np.all(...) or np.any(...)."
            )
    passed = bool(condition)
    if passed:
        print(f"PASS: {what}")
        return True
    line = f"FAIL: {what} — {hint}" if hint else f"FAIL: {what}"
    print(line)
    if strict():
        raise CheckFailed(f"{line} ({STRICT_ENV} is set: the instructor solution must pass)")
    return False


def allclose_or_false(value, expected, **tolerances) -> bool:
    """``np.allclose`` that is False, not an error, for a missing value or another shape (for
    the exercise checks, which compare a student's result that may be anything)."""
    if value is None:
        return False
    value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    return value.shape == expected.shape and bool(np.allclose(value, expected, **tolerances))


def _as_float_array(value):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


def check_close(
    value,
    expected,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    what: str = "value",
) -> bool:
    """PASS if ``value`` equals ``expected`` within ``|v - e| <= atol + rtol |e|`` everywhere.

    Works on scalars and arrays (same shape required, NaN never passes).
    """
    if rtol < 0 or atol < 0:
        raise ValueError(
            f"check_close(): rtol and atol must be >= 0, got rtol={rtol}, atol={atol}."
        )
    exp = _as_float_array(expected)
    if exp is None:
        raise TypeError(
            f"check_close(): 'expected' must be numeric, got {type(expected).__name__}."
        )
    got = _as_float_array(value)
    if got is None:
        return check(False, what, f"expected a number or array, got {type(value).__name__}")
    if got.shape != exp.shape:
        return check(False, what, f"shape {got.shape}, expected {exp.shape}")
    if np.isnan(got).any():
        return check(False, what, f"contains NaN: {_fmt(got)}")
    ok = bool(np.allclose(got, exp, rtol=rtol, atol=atol, equal_nan=False))
    return check(ok, what, f"got {_fmt(got)}, expected {_fmt(exp)} (rtol={rtol:g}, atol={atol:g})")


def check_shape(array, shape: Sequence[int | None], what: str = "array shape") -> bool:
    """PASS if ``array.shape`` matches ``shape``; ``None`` in ``shape`` matches any length."""
    if isinstance(shape, int) or not all(
        s is None or (isinstance(s, int) and s >= 0) for s in shape
    ):
        raise TypeError(
            f"check_shape(): 'shape' must be a tuple of non-negative ints or None, got {shape!r}."
        )
    shape = tuple(shape)
    got = getattr(array, "shape", None)
    if got is None:
        return check(False, what, f"expected an array of shape {shape}, got {type(array).__name__}")
    got = tuple(int(s) for s in got)
    ok = len(got) == len(shape) and all(
        s is None or s == g for s, g in zip(shape, got, strict=True)
    )
    wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
    return check(ok, what, f"shape {got}, expected {wanted}")


def check_better_than(value, baseline, what: str, lower_is_better: bool = True) -> bool:
    """PASS if ``value`` strictly beats ``baseline`` (lower, or higher if
    ``lower_is_better=False``)."""
    base = _as_float_array(baseline)
    if base is None or base.ndim != 0 or np.isnan(base):
        raise TypeError(
            f"check_better_than(): 'baseline' must be a finite number, got {baseline!r}."
        )
    got = _as_float_array(value)
    if got is None or got.ndim != 0:
        return check(False, what, f"expected a single number, got {type(value).__name__}")
    if np.isnan(got):
        return check(False, what, "the value is NaN")
    ok = bool(got < base) if lower_is_better else bool(got > base)
    relation = "lower" if lower_is_better else "higher"
    return check(ok, what, f"got {_fmt(got)}, the baseline has {_fmt(base)}; {relation} is better")


def call_student(fn, *args, as_array: bool = True):
    """Call a student's function: ``(result, None)``, or ``(None, reason)`` when it is still a
    stub or raises (a student's bug is a FAIL line, never a traceback). ``as_array`` returns
    the result as a float NumPy array."""
    try:
        result = fn(*args)
        return (np.asarray(result, dtype=float) if as_array else result), None
    except NotImplementedError:
        return None, "the function is still a stub: write its body."
    except Exception as err:  # noqa: BLE001 - a student's bug is a FAIL, not a traceback
        return None, f"calling it raised {type(err).__name__}: {err}"
