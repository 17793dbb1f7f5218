"""Generate student copies of the chapter notebooks: solutions stripped, outputs cleared.

The chapters are the notebooks of the registry :mod:`a3net.chapters`. Conventions of the notebooks
in ``book/`` (``<Letter>_<slug>.ipynb``):

- a code cell tagged ``solution`` is a solution: it becomes a stub cell tagged
  ``exercise-stub`` holding :data:`STUB_COMMENT` and, for every function or class the solution
  defines, the same signature (and docstring) with a body that raises
  ``NotImplementedError("exercise")``, so later self-check cells fail clearly, not with NameError;
- a markdown cell tagged ``solution`` (sphinx-exercise ``{solution}`` text) is removed;
- a cell tagged ``claims`` (the chapter's assertion cell, which may need solutions) is removed;
- every output and execution count is cleared; notebook metadata is kept.

Use ``python -m a3net.exercises.student book --out student`` or the ``a3net-student`` script;
add ``--run`` to execute the copies as CI does (:func:`run_student_copies`): a cell may stop
only with ``NotImplementedError`` (a stub), any other error fails the run.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from a3net import chapters

__all__ = [
    "ALLOWED_ERRORS",
    "CHAPTER_LIKE",
    "STUB_COMMENT",
    "STUB_TAG",
    "StudentRunError",
    "chapter_notebooks",
    "execute_student_notebook",
    "main",
    "make_student_notebook",
    "run_student_copies",
    "stub_source",
    "write_student_copies",
]

SOLUTION_TAG = "solution"
CLAIMS_TAG = "claims"
STUB_TAG = "exercise-stub"
_FOLDING_TAGS = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
STUB_COMMENT = "# Your solution here: see the exercise above."
# A notebook named like a chapter; each must have its row in a3net/chapters.py.
CHAPTER_LIKE = "[A-Z]_*.ipynb"
# A {solution} directive in any fence (backticks, tildes, colons), in any case: never leaked.
_SOLUTION_DIRECTIVE = re.compile(r"(```+|~~~+|:::+)\s*\{\s*solution(-start)?\s*\}", re.IGNORECASE)
# The only error a cell of a student copy may stop with: a stub that is not written yet.
ALLOWED_ERRORS = ("NotImplementedError",)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _has_tag(tags, tag: str) -> bool:
    """Whether ``tags`` hold ``tag``, in any case and surrounding spaces (``Solution``)."""
    return any(isinstance(t, str) and t.strip().lower() == tag for t in tags)


def _strip_magics(source: str) -> str:
    """Blank IPython magics and shell escapes so that ``ast`` can parse the rest."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _stub_definition(node: ast.AST) -> ast.AST:
    """A copy of a function/class definition whose bodies raise NotImplementedError."""
    node = copy.deepcopy(node)
    # Decorators may need names the solution defines; keep only the method-kind builtins.
    node.decorator_list = [
        d
        for d in node.decorator_list
        if isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod", "property")
    ]
    raise_stmt = ast.parse('raise NotImplementedError("exercise")').body[0]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        doc = ast.get_docstring(node, clean=False)
        node.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [raise_stmt]
    elif isinstance(node, ast.ClassDef):
        doc = ast.get_docstring(node, clean=False)
        body = [ast.Expr(ast.Constant(doc))] if doc is not None else []
        body += [
            _stub_definition(item)
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        node.body = body or [ast.Pass()]
    return node


def stub_source(solution: str) -> str:
    """Source of the stub cell for a solution cell: the comment, then stubbed definitions."""
    try:
        tree = ast.parse(_strip_magics(solution))
    except SyntaxError:
        return STUB_COMMENT
    stubs = [
        ast.unparse(ast.fix_missing_locations(_stub_definition(node)))
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    return "\n\n\n".join([STUB_COMMENT] + stubs) if stubs else STUB_COMMENT


def make_student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy of ``nb`` (a new notebook; ``nb`` is not modified).

    Raises ValueError if an untagged markdown cell holds a ``{solution}`` directive, so that a
    forgotten tag can never leak a solution into the student copy.
    """
    if not isinstance(nb, nbformat.NotebookNode) or "cells" not in nb:
        raise TypeError(
            f"make_student_notebook() expects an nbformat NotebookNode (nbformat.read(...)), "
            f"got {type(nb).__name__}."
        )
    out = copy.deepcopy(nb)
    cells = []
    for index, cell in enumerate(out.cells):
        tags = _tags(cell)
        if _has_tag(tags, CLAIMS_TAG):
            continue
        if _has_tag(tags, SOLUTION_TAG):
            if cell.cell_type != "code":
                continue
            cell.source = stub_source(cell.source)
            # the stub is the student's to write: keep it, unfolded, where the answer was
            cell.metadata["tags"] = [
                STUB_TAG if _has_tag([t], SOLUTION_TAG) else t
                for t in tags
                if t not in _FOLDING_TAGS
            ]
        elif cell.cell_type == "markdown" and _SOLUTION_DIRECTIVE.search(cell.source):
            raise ValueError(
                f"cell {index} (id {cell.get('id', '?')}) holds a {{solution}} directive but is "
                f"not tagged {SOLUTION_TAG!r}; add the tag so the student copy leaves it out."
            )
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    out.cells = cells
    nbformat.validate(out)
    return out


def chapter_notebooks(src: str | Path) -> list[Path]:
    """The chapter notebooks of ``src``: that notebook, or the registry's notebooks in a folder.

    In a folder, the notebooks named in :mod:`a3net.chapters` are used, in its order; a notebook
    named like a chapter (``<Letter>_*.ipynb``) without a registry row is an error, so that no
    chapter is skipped silently.
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(
            f"source path {src} does not exist; give a notebook or the book/ folder."
        )
    if not src.is_dir():
        if src.suffix != ".ipynb":
            raise ValueError(f"source {src} is not a notebook (.ipynb) or a folder of notebooks.")
        return [src]
    names = [Path(chapter.notebook).name for chapter in chapters.CHAPTERS]
    unknown = sorted(p.name for p in src.glob(CHAPTER_LIKE) if p.name not in names)
    if unknown:
        raise ValueError(
            f"{src} holds {', '.join(unknown)}, named like a chapter but without a row in the "
            "registry a3net/chapters.py; add its row there (or rename the notebook)."
        )
    found = [src / name for name in names if (src / name).is_file()]
    if not found:
        raise FileNotFoundError(
            f"no chapter notebook of the registry a3net/chapters.py (e.g. {names[0]}) in {src}; "
            "give the book/ folder or a notebook."
        )
    return found


def write_student_copies(src: str | Path, out: str | Path) -> list[Path]:
    """Write the student copy of each chapter notebook in ``src`` into folder ``out``.

    ``src`` is one notebook or a folder (its chapters: :func:`chapter_notebooks`); the copies
    keep their file names. Returns the written paths; refuses to overwrite a source notebook.
    """
    src, out = Path(src), Path(out)
    notebooks = chapter_notebooks(src)
    written = []
    for path in notebooks:
        target = out / path.name
        if target.exists() and target.resolve() == path.resolve():
            raise ValueError(
                f"output {target} is the source notebook itself; choose another --out folder."
            )
        nb = nbformat.read(path, as_version=4)
        try:
            student = make_student_notebook(nb)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        written.append(target)
    return written


class StudentRunError(RuntimeError):
    """A cell of a student copy stopped with an error other than NotImplementedError."""


@contextlib.contextmanager
def _lenient_checks():
    """Unset A3NET_STRICT_CHECKS while student copies run: their stubs must FAIL quietly."""
    saved = os.environ.pop("A3NET_STRICT_CHECKS", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["A3NET_STRICT_CHECKS"] = saved


def execute_student_notebook(
    path: str | Path, *, timeout: int = 600, kernel_name: str | None = None
):
    """Execute the notebook at ``path`` in its folder; cells may stop only with NotImplementedError.

    Returns ``(executed notebook, indices of the cells that stopped with NotImplementedError)``;
    the file itself is not changed. Raises :class:`StudentRunError` naming the cell and the error
    if any other error stops a cell, or a cell runs longer than ``timeout`` seconds.
    """
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError
    except ImportError:  # pragma: no cover - nbclient ships with the book's pinned environment
        raise ImportError(
            "running student copies needs nbclient; install it with pip install nbclient."
        ) from None
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    stopped: list[tuple[int, str]] = []

    def on_error(cell, cell_index, execute_reply, **_):
        stopped.append((cell_index, execute_reply["content"].get("ename", "?")))

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name or nb.metadata.get("kernelspec", {}).get("name", "python3"),
        allow_errors=False,
        allow_error_names=list(ALLOWED_ERRORS),
        resources={"metadata": {"path": str(path.parent.resolve())}},
        on_cell_error=on_error,
    )
    try:
        with _lenient_checks():
            client.execute()
    except CellTimeoutError as exc:
        raise StudentRunError(
            f"{path}: a cell ran longer than {timeout} s; raise --timeout or shrink the smoke "
            f"profile ({str(exc).splitlines()[0]})."
        ) from None
    except CellExecutionError as exc:
        index = stopped[-1][0] if stopped else "?"
        raise StudentRunError(
            f"{path}: cell {index} stopped with {exc.ename}: {exc.evalue}; only "
            f"NotImplementedError may stop a cell of a student copy.\n{exc}"
        ) from None
    return nb, [index for index, name in stopped if name in ALLOWED_ERRORS]


def _execute_all(paths, timeout: int) -> dict:
    results = {}
    for path in paths:
        start = time.perf_counter()
        _, stopped = execute_student_notebook(path, timeout=timeout)
        print(
            f"ran {path} in {time.perf_counter() - start:.0f} s: {len(stopped)} cell(s) "
            f"stopped with NotImplementedError {stopped}",
            flush=True,
        )
        results[path] = stopped
    return results


def run_student_copies(src: str | Path, out: str | Path, *, timeout: int = 600) -> dict:
    """Write the student copies of ``src`` into ``out`` (see :func:`write_student_copies`) and
    execute each; returns ``{path: indices of the cells stopped by NotImplementedError}``.

    Raises :class:`StudentRunError` at the first cell that stops with any other error.
    """
    return _execute_all(write_student_copies(src, out), timeout)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``a3net-student SRC --out DIR`` (SRC: the book/ folder or one notebook)."""
    parser = argparse.ArgumentParser(
        prog="a3net-student",
        description="Write student copies of the chapter notebooks: solution cells become stubs, "
        "solution text and claims cells are removed, outputs are cleared.",
    )
    parser.add_argument("src", type=Path, help="the book/ folder or one chapter notebook")
    parser.add_argument(
        "--out", type=Path, default=Path("student"), help="output folder (default: student)"
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="then execute every copy; a cell may stop only with NotImplementedError",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=600,
        help="with --run: seconds a cell may take (default: 600)",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}.")
    try:
        written = write_student_copies(args.src, args.out)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    for path in written:
        print(f"wrote {path}", flush=True)
    if args.run:
        try:
            _execute_all(written, args.timeout)
        except StudentRunError as exc:
            print(f"a3net-student: error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
