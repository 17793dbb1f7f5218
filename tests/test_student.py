"""a3net.exercises.student: the student-notebook generator and its command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from a3net import chapters
from a3net.exercises.student import (
    STUB_COMMENT,
    StudentRunError,
    chapter_notebooks,
    execute_student_notebook,
    make_student_notebook,
    run_student_copies,
    stub_source,
    write_student_copies,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_F = ROOT / chapters.by_letter("F").notebook
# Synthetic chapters take the file names of registry rows: a folder's chapters are those.
NAME_A = Path(chapters.by_letter("A").notebook).name
NAME_F = Path(chapters.by_letter("F").notebook).name

SOLUTION_CODE = '''import numpy as np


def ring_radius(image, threshold=0.5):
    """Radius [pixels] of the brightest ring in ``image`` (H, W)."""
    ys, xs = np.nonzero(image > threshold)
    return float(np.hypot(ys - ys.mean(), xs - xs.mean()).mean())


class Counter:
    def __init__(self, n):
        self.n = n

    def count(self, images):
        return [self.n] * len(images)


answer = ring_radius(np.ones((5, 5)))
'''


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def _synthetic_notebook():
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "a3net": {"chapter": "F"},
        }
    )
    intro = new_markdown_cell("# A chapter\nSome physics.")
    setup = new_code_cell(
        "x = 1\nprint(x)",
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="1\n")],
    )
    exercise = _tagged(
        new_markdown_cell("```{exercise} Ring radius\n:label: ex-radius\nWrite it.\n```"),
        "exercise",
    )
    solution_code = _tagged(
        new_code_cell(SOLUTION_CODE, execution_count=4), "solution", "hide-input"
    )
    solution_text = _tagged(
        new_markdown_cell("```{solution} ex-radius\nThe mean distance.\n```"), "solution"
    )
    selfcheck = new_code_cell(
        "check(ring_radius(img) > 0, 'radius positive')",
        execution_count=5,
        outputs=[new_output("execute_result", data={"text/plain": "True"}, execution_count=5)],
    )
    claims = _tagged(new_code_cell("assert answer > 0", execution_count=6), "claims", "remove-cell")
    nb.cells = [intro, setup, exercise, solution_code, solution_text, selfcheck, claims]
    return nb


def test_make_student_notebook():
    nb = _synthetic_notebook()
    original = nbformat.writes(nb)
    student = make_student_notebook(nb)
    assert nbformat.writes(nb) == original  # the input is untouched
    nbformat.validate(student)
    assert student.metadata == nb.metadata

    sources = [c.source for c in student.cells]
    assert len(student.cells) == 5  # solution text and claims removed
    assert not any("{solution}" in s for s in sources)
    assert not any("assert answer" in s for s in sources)

    stub = student.cells[3]
    assert stub.cell_type == "code"
    assert stub.metadata["tags"] == ["exercise-stub"]  # unfolded: the student writes it
    assert stub.source.startswith(STUB_COMMENT)
    assert "def ring_radius(image, threshold=0.5):" in stub.source
    assert "np.nonzero" not in stub.source and "answer =" not in stub.source

    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    # non-solution cells are unchanged apart from outputs
    assert [student.cells[i].source for i in (0, 1, 2, 4)] == [
        nb.cells[i].source for i in (0, 1, 2, 5)
    ]
    assert student.cells[2].metadata == nb.cells[2].metadata
    assert student.cells[1].get("id") == nb.cells[1].get("id")


def test_stub_definitions_raise_not_implemented():
    namespace = {}
    exec(stub_source(SOLUTION_CODE), namespace)
    assert namespace["ring_radius"].__doc__.strip().startswith("Radius [pixels]")
    with pytest.raises(NotImplementedError, match="exercise"):
        namespace["ring_radius"](None)
    with pytest.raises(NotImplementedError):
        namespace["Counter"](3)
    assert "answer" not in namespace


def test_stub_of_cell_without_definitions_or_unparsable():
    assert stub_source("model.fit(x, y)\n") == STUB_COMMENT
    assert stub_source("x = (\n") == STUB_COMMENT
    assert "def f" in stub_source("%%time\ndef f():\n    return 1\n")


def test_untagged_solution_directive_is_refused():
    nb = new_notebook()
    nb.cells = [new_markdown_cell(":::{solution} ex1\nleaked\n:::")]
    with pytest.raises(ValueError, match="not tagged 'solution'"):
        make_student_notebook(nb)
    with pytest.raises(TypeError, match="NotebookNode"):
        make_student_notebook({"cells": []})


def test_write_student_copies_folder(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_synthetic_notebook(), book / NAME_F)
    nbformat.write(_synthetic_notebook(), book / "intro_like.ipynb")  # not a chapter: skipped
    out = tmp_path / "student"
    written = write_student_copies(book, out)
    assert written == [out / NAME_F]
    student = nbformat.read(written[0], as_version=4)
    nbformat.validate(student)
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    with pytest.raises(ValueError, match="source notebook itself"):
        write_student_copies(book, book)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no chapter notebook"):
        write_student_copies(empty, tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_student_copies(tmp_path / "missing", tmp_path / "x")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a notebook"):
        write_student_copies(tmp_path / "notes.txt", tmp_path / "x")


def test_folder_chapters_come_from_the_registry(tmp_path):
    """In book/, every registry notebook, in order; one named like a chapter without a row fails."""
    assert chapter_notebooks(ROOT / "book") == chapters.notebooks(ROOT)
    book = tmp_path / "book"
    book.mkdir()
    for name in (NAME_F, NAME_A):
        nbformat.write(_synthetic_notebook(), book / name)
    assert chapter_notebooks(book) == [book / NAME_A, book / NAME_F]
    nbformat.write(_synthetic_notebook(), book / "I_ninth.ipynb")
    with pytest.raises(ValueError, match="I_ninth.ipynb, named like a chapter but without a row"):
        write_student_copies(book, tmp_path / "student")
    assert not (tmp_path / "student").exists()


def _cli(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "a3net.exercises.student", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def test_cli_writes_copies(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_synthetic_notebook(), book / NAME_A)
    result = _cli(str(book), "--out", str(tmp_path / "student"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "student" / NAME_A).is_file()
    assert "wrote" in result.stdout


def test_cli_errors_clearly(tmp_path):
    missing = tmp_path / "no_such_book"
    result = _cli(str(missing), "--out", str(tmp_path / "student"))
    assert result.returncode != 0
    assert "does not exist" in result.stderr and str(missing) in result.stderr
    assert "Traceback" not in result.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    result = _cli(str(empty))
    assert result.returncode != 0
    assert "no chapter notebook" in result.stderr and "Traceback" not in result.stderr


def test_import_pulls_no_deep_learning_framework():
    code = (
        "import sys, a3net.exercises.student, a3net.exercises.checks; "
        "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_chapter_F_solutions_are_stripped(tmp_path):
    # Chapter F is required: this test fails (it does not skip) while the notebook is missing.
    assert CHAPTER_F.is_file(), f"{CHAPTER_F} is missing: chapter F is required"
    nb = nbformat.read(CHAPTER_F, as_version=4)
    solutions = [
        c for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])
    ]
    assert len(solutions) >= 3, f"chapter F has {len(solutions)} solution code cells, needs >= 3"
    [written] = write_student_copies(CHAPTER_F, tmp_path)
    student = nbformat.read(written, as_version=4)
    nbformat.validate(student)
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    assert not any("claims" in c.metadata.get("tags", []) for c in student.cells)
    stubs = [c for c in student.cells if "exercise-stub" in c.metadata.get("tags", [])]
    assert len(stubs) == len(solutions)
    assert all(c.get("outputs", []) == [] for c in student.cells if c.cell_type == "code")


# ------------------------------------------------------------------ running the student copies
# Tiny plain-Python notebooks (kernel python3): each execution starts one kernel, about a second.


def _plain_notebook(*cells):
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        cell if isinstance(cell, nbformat.NotebookNode) else new_code_cell(cell) for cell in cells
    ]
    return nb


def test_run_goes_on_after_not_implemented_error(tmp_path, monkeypatch):
    # A stub's NotImplementedError and a failing self-check must not stop the run, even when the
    # instructor-notebook setting A3NET_STRICT_CHECKS is exported around it.
    monkeypatch.setenv("A3NET_STRICT_CHECKS", "1")
    path = tmp_path / "ok.ipynb"
    nbformat.write(
        _plain_notebook(
            'raise NotImplementedError("exercise")',
            "from a3net.exercises import check\ncheck(False, 'not written yet')",
            'print("after")',
        ),
        path,
    )
    executed, stopped = execute_student_notebook(path, timeout=60)
    assert stopped == [0]
    assert "FAIL: not written yet" in executed.cells[1].outputs[0].text
    assert executed.cells[2].outputs[0].text == "after\n"
    assert os.environ["A3NET_STRICT_CHECKS"] == "1"  # restored after the run
    assert nbformat.read(path, as_version=4).cells[2].outputs == []  # the file is untouched


def test_run_fails_on_any_other_error(tmp_path):
    path = tmp_path / "bad.ipynb"
    nbformat.write(_plain_notebook("x = 1", "undefined_name", 'print("never")'), path)
    with pytest.raises(
        StudentRunError,
        match=r"cell 1 stopped with NameError: name "
        r"'undefined_name' is not defined; only "
        r"NotImplementedError may stop",
    ):
        execute_student_notebook(path, timeout=60)


def _runnable_chapter(check_source):
    solution = _tagged(new_code_cell("def double(x):\n    return 2 * x"), "solution")
    return _plain_notebook(solution, check_source, 'print("done")')


def test_run_student_copies_of_a_chapter(tmp_path, capsys):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_runnable_chapter("print(double(2))"), book / NAME_A)
    results = run_student_copies(book, tmp_path / "student", timeout=60)
    assert results == {tmp_path / "student" / NAME_A: [1]}  # the stub stopped cell 1
    assert "1 cell(s) stopped with NotImplementedError" in capsys.readouterr().out


def test_cli_run_fails_on_name_error(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_runnable_chapter("print(doubel(2))"), book / NAME_A)
    result = _cli(str(book), "--out", str(tmp_path / "student"), "--run", "--timeout", "60")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "wrote" in result.stdout
    assert "cell 1 stopped with NameError" in result.stderr
    result = _cli(str(book), "--run", "--timeout", "0")
    assert result.returncode != 0 and "--timeout must be a positive" in result.stderr


# --------------------------------------------------------------- fence styles and tag spellings


@pytest.mark.parametrize("tag", ["solution", "Solution", "SOLUTION", " solution "])
def test_solution_tags_in_any_case_are_stripped(tag):
    nb = _synthetic_notebook()
    nb.cells[3].metadata["tags"] = [tag, "hide-input"]  # the code solution
    nb.cells[4].metadata["tags"] = [tag]  # the markdown solution
    student = make_student_notebook(nb)
    sources = "\n".join(c.source for c in student.cells)
    assert "np.nonzero" not in sources and "The mean distance" not in sources
    stub = student.cells[3]
    assert stub.source.startswith(STUB_COMMENT)
    assert stub.metadata["tags"] == ["exercise-stub"]


@pytest.mark.parametrize("tag", ["claims", "Claims", "CLAIMS"])
def test_claims_tags_in_any_case_are_removed(tag):
    nb = _synthetic_notebook()
    nb.cells[6].metadata["tags"] = [tag]
    student = make_student_notebook(nb)
    assert not any("assert answer" in c.source for c in student.cells)


@pytest.mark.parametrize(
    "text",
    [
        "~~~{solution} ex-radius\nThe mean distance.\n~~~",
        "~~~~ {solution} ex-radius\nThe mean distance.\n~~~~",
        "```{Solution} ex-radius\nThe mean distance.\n```",
        ":::{solution-start} ex-radius\nThe mean distance.\n:::",
        "````{ solution } ex-radius\nThe mean distance.\n````",
    ],
)
def test_every_fence_style_of_a_solution_is_recognised(text):
    nb = _synthetic_notebook()
    nb.cells[4].source = text
    student = make_student_notebook(nb)  # tagged: removed
    assert not any("The mean distance" in c.source for c in student.cells)
    nb.cells[4].metadata["tags"] = []  # untagged: refused, never leaked
    with pytest.raises(ValueError, match="solution"):
        make_student_notebook(nb)


def test_an_exercise_directive_is_not_taken_for_a_solution():
    nb = _synthetic_notebook()
    nb.cells[2].source = "~~~{exercise} Ring radius\n:label: ex-radius\nWrite it.\n~~~"
    nb.cells[2].metadata["tags"] = []
    student = make_student_notebook(nb)
    assert student.cells[2].source == nb.cells[2].source
