"""The version lives in ``a3net.__version__`` only; this checks or rewrites the places copying it.

    python -m a3net._release --check          # name every place that disagrees (exit status 1)
    python -m a3net._release --set 0.2.0      # write 0.2.0 to __init__.py and every derived place

Derived places: pyproject.toml reads the version from ``a3net.__version__`` (``dynamic``); the
README's citation block has ``version = {X.Y.Z}``; the Colab cell (cell 0) of every chapter
notebook of the registry :mod:`a3net.chapters` installs ``a3net @ git+...@vX.Y.Z``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from a3net import chapters as registry

ROOT = Path(__file__).resolve().parents[1]
RELEASE = re.compile(r"\d+\.\d+\.\d+((a|b|rc)\d+)?")
INIT = re.compile(r'^__version__ = "([^"]*)"$', re.M)
README = re.compile(r"^(\s*version\s*=\s*\{)([^}]*)(\},)$", re.M)
COLAB = re.compile(r"(a3net-school/a3net@v)([0-9][^\"'\s]*)")
DYNAMIC = {"attr": "a3net.__version__"}


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks of the registry a3net/chapters.py, in order, under ``root``."""
    return registry.notebooks(root)


def read_version(root: Path = ROOT) -> str:
    """``__version__`` as written in a3net/__init__.py (read as text, not imported)."""
    found = INIT.findall((root / "a3net/__init__.py").read_text(encoding="utf-8"))
    if len(found) != 1:
        raise ValueError("a3net/__init__.py must assign __version__ exactly once.")
    return found[0]


def _colab_source(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(cells[0]["source"]) if cells else ""


def check(root: Path = ROOT) -> list[str]:
    """One sentence for every place whose version differs from ``__version__``; empty if none."""
    version = read_version(root)
    problems = []
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject.get("project", {})
    source = pyproject.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("version")
    if "version" in project or "version" not in project.get("dynamic", []) or source != DYNAMIC:
        problems.append(
            "pyproject.toml must read the version from a3net.__version__: write "
            'dynamic = ["version"] in [project] and version = { attr = '
            '"a3net.__version__" } in [tool.setuptools.dynamic].'
        )
    cited = [m[1] for m in README.findall((root / "README.md").read_text(encoding="utf-8"))]
    if cited != [version]:
        problems.append(
            f"README.md cites version {cited or 'none'}, not {version}: run "
            f"python -m a3net._release --set {version}."
        )
    for path in chapters(root):
        pinned = [m[1] for m in COLAB.findall(_colab_source(path))]
        if pinned != [version]:
            problems.append(
                f"{path.relative_to(root)} cell 0 installs {pinned or 'no'} release, "
                f"not v{version}: run python -m a3net._release --set {version}."
            )
    return problems


def set_version(version: str, root: Path = ROOT) -> list[Path]:
    """Write ``version`` to a3net/__init__.py, the README citation and every Colab cell."""
    if not RELEASE.fullmatch(version):
        raise ValueError(
            f"version {version!r} is not X.Y.Z (optionally aN, bN or rcN); "
            "pass a release number such as 0.2.0."
        )
    texts = {}
    for path, pattern, new in (
        (root / "a3net/__init__.py", INIT, f'__version__ = "{version}"'),
        (root / "README.md", README, rf"\g<1>{version}\g<3>"),
    ):
        texts[path] = pattern.sub(new, path.read_text(encoding="utf-8"))
    for path in chapters(root):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cell = notebook["cells"][0]  # only the Colab cell: other cells may be edited meanwhile
        source = COLAB.sub(rf"\g<1>{version}", "".join(cell["source"]))
        cell["source"] = source.splitlines(keepends=True)
        texts[path] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    changed = [path for path, text in texts.items() if text != path.read_text(encoding="utf-8")]
    for path in changed:
        path.write_text(texts[path], encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: --check or --set X.Y.Z."""
    parser = argparse.ArgumentParser(prog="python -m a3net._release", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="name places that disagree")
    group.add_argument("--set", metavar="X.Y.Z", help="write this version everywhere")
    args = parser.parse_args(argv)
    if args.set:
        try:
            written = set_version(args.set)
        except ValueError as error:
            parser.error(str(error))
        for path in written:
            print(f"wrote {args.set} to {path.relative_to(ROOT)}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"version {read_version()} agrees everywhere; tag the release v{read_version()}.")
    return int(bool(problems))


if __name__ == "__main__":
    sys.exit(main())
