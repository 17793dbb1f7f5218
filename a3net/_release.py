"""The version and the ref the course is published from: written here, copied everywhere else.

    python -m a3net._release --check          # name every place that disagrees (exit status 1)
    python -m a3net._release --set 0.2.0      # version 0.2.0, ref v0.2.0, in every place
    python -m a3net._release --ref main       # only the ref (a branch or a tag), in every place

The version lives in ``a3net.__version__``; the ref in ``REF`` below: ``main`` until a release
tag exists, then the tag ``vX.Y.Z`` that ``--set`` writes. Derived places: pyproject.toml reads
the version from ``a3net.__version__`` (``dynamic``); the README's citation block has ``version =
{X.Y.Z}``; the README's Binder and Colab badges, the book's launch buttons (``repository.branch``
of _config.yml) and the Colab cell (cell 0) of every chapter notebook of the registry
:mod:`a3net.chapters` name the ref, so a notebook opened from a badge or a button installs the
package of the same ref. The Colab cell is written whole from :func:`colab_cell`, with the extras
the registry gives the chapter (``[torch,keras,e2cnn]`` for G).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from a3net import chapters as registry

REF = "main"  # the branch or release tag that badges, launch buttons and Colab cells name

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "a3net-school/a3net"
RELEASE = re.compile(r"\d+\.\d+\.\d+((a|b|rc)\d+)?")
REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
INIT = re.compile(r'^__version__ = "([^"]*)"$', re.M)
OWN_REF = re.compile(r'^(REF = ")([^"]*)(")', re.M)
README = re.compile(r"^(\s*version\s*=\s*\{)([^}]*)(\},)$", re.M)
BADGES = (  # (where, pattern whose group 2 is the ref)
    ("Binder badge", re.compile(r"(https://mybinder\.org/v2/gh/a3net-school/a3net/)([^?/\s)]+)")),
    (
        "Colab badge",
        re.compile(
            r"(https://colab\.research\.google\.com/github/a3net-school/a3net/blob/)([^/]+)"
        ),
    ),
)
BRANCH = re.compile(r"^(repository:\n(?:[ \t]+.*\n)*?[ \t]+branch:[ \t]*)(\S+)()", re.M)
DYNAMIC = {"attr": "a3net.__version__"}

COLAB_CELL = """\
# Installs a3net in Google Colab, from the ref (branch or release tag) this
# notebook was opened from; does nothing anywhere else (a3net/_release.py).
import subprocess
import sys

if "google.colab" in sys.modules:
    ref, extras = "{ref}", "{extras}"
    spec = f"a3net[{{extras}}] @ git+https://github.com/{repository}@{{ref}}"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", spec],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        said = (pip.stderr.strip().splitlines() or ["no message"])[-1].strip()
        raise RuntimeError(
            f"pip could not install {{spec}} ({{said}}), so this chapter "
            "cannot run: check the connection and run this cell again."
        )
"""


def colab_cell(chapter: registry.Chapter, ref: str = REF) -> str:
    """The source of ``chapter``'s cell 0: installs a3net[its extras] from ``ref`` in Colab.

    It runs pip through ``subprocess`` (not the ``%pip`` magic, which does not stop the notebook
    when the install fails) and raises ``RuntimeError`` with one sentence when pip fails.
    """
    text = COLAB_CELL.format(ref=ref, extras=chapter.extras, repository=REPOSITORY)
    return text.rstrip("\n")  # a cell's source ends without a newline, as nbformat writes it


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks of the registry a3net/chapters.py, in order, under ``root``."""
    return registry.notebooks(root)


def read_version(root: Path = ROOT) -> str:
    """``__version__`` as written in a3net/__init__.py (read as text, not imported)."""
    found = INIT.findall((root / "a3net/__init__.py").read_text(encoding="utf-8"))
    if len(found) != 1:
        raise ValueError("a3net/__init__.py must assign __version__ exactly once.")
    return found[0]


def read_ref(root: Path = ROOT) -> str:
    """``REF`` as written in a3net/_release.py (read as text)."""
    found = OWN_REF.findall((root / "a3net/_release.py").read_text(encoding="utf-8"))
    if len(found) != 1:
        raise ValueError("a3net/_release.py must assign REF exactly once.")
    return found[0][1]


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
    ref = read_ref(root)
    readme = (root / "README.md").read_text(encoding="utf-8")
    for where, pattern in BADGES:
        named = sorted({m[1] for m in pattern.findall(readme)})
        if named != [ref]:
            problems.append(
                f"README.md's {where} opens {named or 'no'} ref, not {ref}: run "
                f"python -m a3net._release --ref {ref}."
            )
    config = (root / "_config.yml").read_text(encoding="utf-8")
    branch = [m[1] for m in BRANCH.findall(config)]
    if branch != [ref]:
        problems.append(
            f"_config.yml's repository.branch (the launch buttons) is {branch or 'missing'}, not "
            f"{ref}: run python -m a3net._release --ref {ref}."
        )
    for chapter, path in zip(registry.CHAPTERS, chapters(root), strict=True):
        if _colab_source(path) != colab_cell(chapter, ref):
            problems.append(
                f"{path.relative_to(root)} cell 0 is not the Colab cell of ref {ref} with extras "
                f"[{chapter.extras}]: run python -m a3net._release --ref {ref}."
            )
    return problems


def set_version(version: str, root: Path = ROOT) -> list[Path]:
    """Write ``version`` to a3net/__init__.py and the README citation, and the ref ``v<version>``
    to every place that names the ref (:func:`set_ref`); returns the files changed."""
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
    changed = _write(texts)
    return sorted(set(changed) | set(set_ref(f"v{version}", root)))


def set_ref(ref: str, root: Path = ROOT) -> list[Path]:
    """Write ``ref`` (``main`` or a tag such as ``v0.2.0``) to ``REF``, the README's badges, the
    launch buttons of _config.yml and every chapter's Colab cell; returns the files changed."""
    if not isinstance(ref, str) or not REF_NAME.fullmatch(ref):
        raise ValueError(f"ref {ref!r} is not a branch or tag name such as main or v0.2.0.")
    own = root / "a3net/_release.py"
    texts = {own: OWN_REF.sub(rf"\g<1>{ref}\g<3>", own.read_text(encoding="utf-8"))}
    readme = (root / "README.md").read_text(encoding="utf-8")
    for _, pattern in BADGES:
        readme = pattern.sub(rf"\g<1>{ref}", readme)
    texts[root / "README.md"] = readme
    config = root / "_config.yml"
    texts[config] = BRANCH.sub(rf"\g<1>{ref}", config.read_text(encoding="utf-8"))
    for chapter, path in zip(registry.CHAPTERS, chapters(root), strict=True):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cell = notebook["cells"][0]  # only the Colab cell: other cells may be edited meanwhile
        cell["source"] = colab_cell(chapter, ref).splitlines(keepends=True)
        texts[path] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    return _write(texts)


def _write(texts: dict[Path, str]) -> list[Path]:
    changed = [path for path, text in texts.items() if text != path.read_text(encoding="utf-8")]
    for path in changed:
        path.write_text(texts[path], encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: --check or --set X.Y.Z."""
    parser = argparse.ArgumentParser(prog="python -m a3net._release", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="name places that disagree")
    group.add_argument("--set", metavar="X.Y.Z", help="write this version and ref vX.Y.Z")
    group.add_argument("--ref", metavar="REF", help="write this ref (branch or tag) everywhere")
    args = parser.parse_args(argv)
    if args.set or args.ref:
        try:
            written = set_version(args.set) if args.set else set_ref(args.ref)
        except ValueError as error:
            parser.error(str(error))
        for path in written:
            print(f"wrote {args.set or args.ref} to {path.relative_to(ROOT)}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        ref = read_ref()
        print(f"version {read_version()} and ref {ref} agree everywhere", end="")
        print(f"; tag the release {ref}." if ref == f"v{read_version()}" else ".")
    return int(bool(problems))


if __name__ == "__main__":
    sys.exit(main())
