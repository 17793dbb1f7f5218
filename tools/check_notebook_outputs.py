"""Fail when a notebook carries outputs: the book's notebooks are committed without them.

    python3 tools/check_notebook_outputs.py book            # every notebook under book/
    python3 tools/check_notebook_outputs.py a.ipynb b.ipynb  # these (the pre-commit hook)

A code cell with outputs or an execution count is reported, one line per notebook; the exit
status is 1 if any was found. Clear them with Jupyter's "Clear All Outputs", or with
``jupyter nbconvert --clear-output --inplace NOTEBOOK``. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def notebooks(paths: list[str]) -> list[Path]:
    """The notebooks named by ``paths`` (files, or folders searched recursively)."""
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb":
            found.append(path)
        elif not path.exists():
            raise FileNotFoundError(f"{path} does not exist; give notebooks or folders.")
    return found


def dirty_cells(path: Path) -> list[int]:
    """Indices of the code cells of ``path`` that carry outputs or an execution count."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    return [
        index
        for index, cell in enumerate(cells)
        if cell.get("cell_type") == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def main(argv: list[str] | None = None) -> int:
    """Report every notebook with outputs; exit status 1 if there is one."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: check_notebook_outputs.py NOTEBOOK_OR_FOLDER ...", file=sys.stderr)
        return 2
    status = 0
    for path in notebooks(args):
        cells = dirty_cells(path)
        if cells:
            print(
                f"{path}: code cells {cells} carry outputs; clear them before committing "
                f"(jupyter nbconvert --clear-output --inplace {path}).",
                file=sys.stderr,
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
