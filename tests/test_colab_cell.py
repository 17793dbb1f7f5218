"""The Colab cell (cell 0 of every chapter): run as Colab runs it, with a pip that fails or works.

The cell is executed from the notebook itself (not from a copy of its logic), with the module
``google.colab`` present as it is in Colab, and ``sys.executable`` pointing at a stand-in for
Python whose ``-m pip`` fails or succeeds; one test runs the real pip, which fails because git may
not fetch over https here.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from a3net import _release, chapters

ROOT = Path(__file__).resolve().parents[1]


def cell_source(chapter: chapters.Chapter) -> str:
    notebook = json.loads((ROOT / chapter.notebook).read_text(encoding="utf-8"))
    return "".join(notebook["cells"][0]["source"])


def fake_python(tmp_path: Path, exit_code: int, message: str = "") -> Path:
    """An executable that records its arguments, prints ``message`` to stderr and exits."""
    script = tmp_path / "python"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{tmp_path}/argv"\n'
        f"printf '%s\\n' '{message}' >&2\n"
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def in_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def run_cell(source: str) -> None:
    exec(compile(source, "<cell 0>", "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("chapter", chapters.CHAPTERS, ids=lambda c: c.letter)
def test_a_failing_install_stops_the_notebook_with_one_sentence(
    chapter, tmp_path, monkeypatch, in_colab
):
    error = "ERROR: No matching distribution found for a3net"
    monkeypatch.setattr(sys, "executable", str(fake_python(tmp_path, 1, error)))
    with pytest.raises(RuntimeError) as caught:
        run_cell(cell_source(chapter))
    message = str(caught.value)
    spec = f"a3net[{chapter.extras}] @ git+https://github.com/a3net-school/a3net@{_release.REF}"
    assert message == (
        f"pip could not install {spec} ({error}), so this chapter cannot run: check the "
        "connection and run this cell again."
    )
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")


@pytest.mark.parametrize("chapter", chapters.CHAPTERS, ids=lambda c: c.letter)
def test_a_working_install_asks_pip_for_the_ref_and_the_chapters_extras(
    chapter, tmp_path, monkeypatch, in_colab
):
    monkeypatch.setattr(sys, "executable", str(fake_python(tmp_path, 0)))
    run_cell(cell_source(chapter))  # no exception
    argv = (tmp_path / "argv").read_text().splitlines()
    spec = f"a3net[{chapter.extras}] @ git+https://github.com/a3net-school/a3net@{_release.REF}"
    assert argv == ["-m", "pip", "install", "-q", spec]


def test_outside_colab_the_cell_does_nothing(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(sys, "executable", str(fake_python(tmp_path, 1, "must not run")))
    for chapter in chapters.CHAPTERS:
        run_cell(cell_source(chapter))
    assert not (tmp_path / "argv").exists()


def test_the_real_pip_failing_stops_the_notebook_with_one_sentence(monkeypatch, in_colab):
    """The real pip, asked for a git URL that git may not fetch (https not allowed)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(RuntimeError) as caught:
        run_cell(cell_source(chapters.by_letter("G")))
    message = str(caught.value)
    assert message.startswith(
        "pip could not install a3net[torch,keras,e2cnn] @ git+https://github.com/a3net-school/"
        f"a3net@{_release.REF} (ERROR: "
    )
    assert message.endswith(
        "), so this chapter cannot run: check the connection and run this cell again."
    )
    assert "\n" not in message
