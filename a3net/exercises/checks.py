"""Generic self-checks for the exercises: each prints ``PASS: what`` or ``FAIL: what — hint``.

They return a bool and never raise on a wrong student answer (a wrong shape, NaN, None, a
non-number or a function that raises is a FAIL with a hint); only bad arguments from the chapter
author raise ValueError/TypeError. Chapter-specific checks in other modules build on these and
are wrapped in :func:`student_check`, which turns anything a check raises once it has the
student's answer in hand into a FAIL line (an error before that is the author's: it raises).

With the environment variable ``A3NET_STRICT_CHECKS=1`` (CI on the instructor notebooks, whose
solutions must pass) a FAIL raises :class:`CheckFailed` (an AssertionError) after printing, so
an exercise whose solution drifts from its check stops the notebook.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Sequence

import numpy as np

__all__ = [
    "CheckFailed",
    "check",
    "check_better_than",
    "check_close",
    "check_shape",
    "strict",
    "student_check",
]

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
    try:
        passed = bool(condition) and not (
            isinstance(condition, (float, np.floating)) and np.isnan(condition)
        )
    except Exception:  # noqa: BLE001 - a value without a truth value is not a pass
        passed = False
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
    value, expected = _as_float_array(value), np.asarray(expected, dtype=float)
    if value is None or value.shape != expected.shape:
        return False
    return bool(np.allclose(value, expected, **tolerances))


def _as_float_array(value):
    """``value`` as a float array, or None for anything that is not one (None, text, a ragged
    list, complex numbers, an object whose conversion raises)."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        if np.iscomplexobj(value):
            return None
        arr = np.asarray(value, dtype=float)
    except Exception:  # noqa: BLE001 - whatever a student returns is a FAIL, not a traceback
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
    try:
        got = tuple(int(s) for s in getattr(array, "shape", None))
    except Exception:  # noqa: BLE001 - no shape (None, a list, a number) is a FAIL
        return check(False, what, f"expected an array of shape {shape}, got {type(array).__name__}")
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


_STUDENT_ANSWER = contextvars.ContextVar("a3net_student_answer", default=False)


def student_answer_in_hand() -> None:
    """Mark, inside a :func:`student_check`, that the check now works on the student's answer:
    from here on anything raised is a FAIL line (:func:`call_student` marks it itself)."""
    _STUDENT_ANSWER.set(True)


def student_check(fn):
    """Decorator of a chapter's self-check ``fn(answer, ...)``: whatever ``fn`` raises once it
    calls or reads the student's answer (a wrong type or shape, NaN, None, a function that
    fails) becomes a FAIL line with a hint and a False return, never a traceback; NumPy's
    warnings on such answers are silenced. An error before that (the chapter passed the check a
    wrong model) and :class:`CheckFailed` (strict mode) propagate."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        token = _STUDENT_ANSWER.set(False)
        try:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        except CheckFailed:
            raise
        except Exception as err:  # noqa: BLE001 - a student's answer is a FAIL, not a traceback
            if not _STUDENT_ANSWER.get():
                raise
            message = " ".join(str(err).split())[:200].rstrip(".")
            return check(
                False,
                f"{fn.__name__}: your answer can be checked",
                f"checking it raised {type(err).__name__}: {message}. Return what the exercise "
                "asks for (its type and shape) and run the cell that defines it again.",
            )
        finally:
            _STUDENT_ANSWER.reset(token)

    return wrapper


def call_student(fn, *args, as_array: bool = True):
    """Call a student's function: ``(result, None)``, or ``(None, reason)`` when it is still a
    stub or raises (a student's bug is a FAIL line, never a traceback). ``as_array`` returns
    the result as a float NumPy array."""
    student_answer_in_hand()
    if not callable(fn):
        return None, f"expected a function, got {type(fn).__name__}: pass the function itself."
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, "the function is still a stub: write its body."
    except Exception as err:  # noqa: BLE001 - a student's bug is a FAIL, not a traceback
        return None, f"calling it raised {type(err).__name__}: {err}"
    if not as_array:
        return result, None
    try:  # None becomes NaN, which the shape and value checks then report
        return np.asarray(result, dtype=float), None
    except Exception:  # noqa: BLE001 - text, a ragged list, an object: not numbers
        return None, f"it returned {type(result).__name__}, not an array of numbers."
