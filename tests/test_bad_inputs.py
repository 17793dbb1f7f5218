"""Bad inputs across the public API: one table of (call, expected sentence fragment).

The rows live beside this file, one module per kind of bad input, each defining ``ROWS``:

- ``_bad_files.py``: corrupt, truncated, empty, foreign and missing files for every reader and
  cache (made from copies of ../shared/realdata where a real file exists);
- ``_bad_values.py``: bad arguments of simulators, metrics, validators, self-checks, seeds,
  environment variables and the student generator;
- ``_bad_training.py``: bad model sizes and ``fit`` / ``predict`` / ``saliency`` / ``generate``
  arguments, run in both frameworks.

Every row must raise one of a3net's clear errors (``ValueError``, ``TypeError``,
``FileNotFoundError``, ``PermissionError`` or ``MemoryError``), raised by a3net's own code rather
than from deep inside NumPy, torch, TensorFlow, astropy, h5py or pandas, with a message that
contains the row's fragment and is one or two sentences long.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CLEAR_ERRORS = (ValueError, TypeError, FileNotFoundError, PermissionError, MemoryError)
MODULES = ("_bad_files", "_bad_values", "_bad_training")


@dataclass(frozen=True)
class Bad:
    """One bad input: ``call(ctx)`` must raise a clear error whose message contains ``fragment``.

    ``ctx`` is a :class:`Context` (a temporary folder, the real-data folder, the framework module
    for rows with ``frameworks=True``). ``errors`` narrows the accepted exception types.
    """

    id: str
    call: object
    fragment: str
    errors: tuple = CLEAR_ERRORS
    frameworks: bool = False
    needs: tuple = field(default=())  # paths under ../shared/realdata the row reads


@dataclass
class Context:
    tmp: Path
    realdata: Path
    models: object = None


@contextlib.contextmanager
def _env(**values):
    """Environment variables set for the duration of a call, then restored."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def with_env(call, **values):
    """A row's call run with these environment variables set (e.g. A3NET_MAX_GB="-1")."""

    def run(ctx):
        with _env(**values):
            return call(ctx)

    return run


def _rows() -> list[Bad]:
    rows = []
    for name in MODULES:
        if (HERE / f"{name}.py").is_file():
            rows += importlib.import_module(name).ROWS
    return rows


ROWS = _rows()
REALDATA = HERE.parent.parent / "shared" / "realdata"


def _cases():
    for row in ROWS:
        if row.frameworks:
            for framework in ("torch", "keras"):
                yield pytest.param(row, framework, id=f"{row.id}[{framework}]")
        else:
            yield pytest.param(row, None, id=row.id)


def _raised_by_a3net(err: BaseException) -> bool:
    """True when the innermost frame that raised ``err`` is a3net's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "/a3net/" in frames[-1].filename.replace("\\", "/")


def test_the_table_is_large_and_named_once():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "two rows share an id"
    assert len(ROWS) >= 150, f"the table has {len(ROWS)} rows; issue 25 asks for at least 150"
    assert {row.id for row in ROWS if row.frameworks}, "no row runs in both frameworks"


@pytest.mark.parametrize(("row", "framework"), list(_cases()))
def test_bad_input_gets_one_clear_sentence(row, framework, tmp_path):
    missing = [p for p in row.needs if not (REALDATA / p).exists()]
    if missing:
        pytest.skip(f"real files not here: {missing}")
    models = importlib.import_module(f"a3net.{framework}") if framework else None
    ctx = Context(tmp=tmp_path, realdata=REALDATA, models=models)
    with pytest.raises(row.errors) as caught:
        row.call(ctx)
    message = str(caught.value)
    assert row.fragment.lower() in message.lower(), message
    assert _raised_by_a3net(caught.value), (
        f"raised outside a3net: {traceback.format_exception(caught.value)[-3:]}"
    )
    assert 0 < len(message) <= 400 and message.count(". ") <= 2, message
