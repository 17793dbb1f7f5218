"""a3net.exercises.checks: printed PASS/FAIL lines and returned booleans."""
from __future__ import annotations

import numpy as np
import pytest

from a3net.exercises.checks import check, check_better_than, check_close, check_shape


def _out(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_check_pass_and_fail(capsys):
    assert check(True, "rings counted") is True
    assert _out(capsys) == "PASS: rings counted"
    assert check(np.bool_(False), "rings counted", "look at the threshold") is False
    assert _out(capsys) == "FAIL: rings counted — look at the threshold"
    assert check(0 > 1, "no hint") is False
    assert _out(capsys) == "FAIL: no hint"
    assert check(np.array([True]), "one-element array") is True


def test_check_rejects_ambiguous_or_bad_arguments():
    with pytest.raises(TypeError, match="np.all"):
        check(np.array([True, False]), "array")
    with pytest.raises(TypeError, match="'what'"):
        check(True, "")
    with pytest.raises(TypeError, match="'hint'"):
        check(True, "x", hint=3)


def test_check_close(capsys):
    assert check_close(1.0 + 1e-9, 1.0, what="radius") is True
    assert _out(capsys) == "PASS: radius"
    assert check_close(1.2, 1.0, rtol=0.1, what="radius") is False
    out = _out(capsys)
    assert out.startswith("FAIL: radius — got 1.2, expected 1")
    assert check_close([1.0, 2.0], np.array([1.0, 2.05]), rtol=0.05, what="vector") is True
    assert check_close(np.ones(3), np.ones(4), what="vector") is False
    assert "shape (3,), expected (4,)" in _out(capsys)
    assert check_close(float("nan"), 1.0, atol=10, what="nan") is False
    assert "NaN" in _out(capsys)
    assert check_close("abc", 1.0, what="text") is False
    assert "expected a number" in _out(capsys)
    with pytest.raises(ValueError, match="rtol and atol"):
        check_close(1.0, 1.0, rtol=-1)


def test_check_shape(capsys):
    assert check_shape(np.zeros((8, 1, 28, 28)), (None, 1, 28, 28), "images") is True
    assert _out(capsys) == "PASS: images"
    assert check_shape(np.zeros((8, 28, 28)), (None, 1, 28, 28), "images") is False
    assert _out(capsys) == "FAIL: images — shape (8, 28, 28), expected (any, 1, 28, 28)"
    assert check_shape([1, 2], (2,), "list") is False
    assert "got list" in _out(capsys)
    with pytest.raises(TypeError, match="'shape'"):
        check_shape(np.zeros(3), 3, "x")


def test_check_better_than(capsys):
    assert check_better_than(0.10, 0.20, "CNN scatter below baseline") is True
    assert _out(capsys) == "PASS: CNN scatter below baseline"
    assert check_better_than(0.30, 0.20, "CNN scatter below baseline") is False
    assert "got 0.3, the baseline has 0.2; lower is better" in _out(capsys)
    assert check_better_than(0.9, 0.8, "accuracy", lower_is_better=False) is True
    assert check_better_than(0.8, 0.8, "accuracy", lower_is_better=False) is False
    assert "higher is better" in _out(capsys)
    assert check_better_than(float("nan"), 0.8, "nan") is False
    assert "NaN" in _out(capsys)
    with pytest.raises(TypeError, match="'baseline'"):
        check_better_than(0.1, None, "x")
