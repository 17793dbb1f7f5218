"""Binder's environment (binder/): what the chapters import, at requirements.txt's pins, and none
of the build or test tools; opened at the ref of a3net/_release.py (offline)."""

from __future__ import annotations

import ast
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from a3net import _release, chapters

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
TOOLS = re.compile(
    r"jupyter-book|sphinx.*|myst-.*|pytest.*|nbval|ruff|hypothesis|coverage|check-jsonschema|"
    r"pre-commit|pydata-sphinx-theme|jupyter-cache"
)


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> dict[str, str]:
    """{name: 'version[; marker]'} of the ``name==version`` lines of a requirements file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(.+)$", line.strip())
        if match:
            found[canon(match[1]) + ("@mac" if "darwin'" in match[2] else "")] = match[2].strip()
    return found


def imported_distributions() -> set[str]:
    """The distributions that a3net's modules and the chapters' code cells import."""
    names = set()

    def visit(source: str) -> None:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])

    for path in (ROOT / "a3net").rglob("*.py"):
        visit(path.read_text(encoding="utf-8"))
    for path in chapters.notebooks(ROOT):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                lines = "".join(cell["source"]).splitlines()
                visit("\n".join(line for line in lines if not line.lstrip().startswith("%")))
    found = set()
    to_dist = packages_distributions()
    for name in names - set(sys.stdlib_module_names) - {"a3net"}:
        found.update(canon(dist) for dist in to_dist.get(name, [name]))
    return found


def test_binder_folder_builds_the_runtime_only():
    assert {p.name for p in BINDER.iterdir()} >= {"requirements.txt", "runtime.txt", "postBuild"}
    runtime = pinned(BINDER / "requirements.txt")
    assert not [name for name in runtime if TOOLS.fullmatch(name.removesuffix("@mac"))], runtime
    full = pinned(ROOT / "requirements.txt")
    for name, pin in runtime.items():
        assert full.get(name) == pin, f"binder pins {name} {pin}, requirements.txt {full.get(name)}"
    assert len(runtime) < len(full) / 4, "Binder installs the chapters' imports, not the stack"
    text = (BINDER / "requirements.txt").read_text(encoding="utf-8")
    assert "-c ../constraints.txt" in text and "-c ../requirements.txt" in text
    assert "download.pytorch.org/whl/cpu" in text, "Binder has no GPU: the CPU build of torch"


def test_binder_has_everything_the_chapters_import():
    runtime = {name.removesuffix("@mac") for name in pinned(BINDER / "requirements.txt")}
    missing = imported_distributions() - runtime
    assert not missing, f"binder/requirements.txt lacks {sorted(missing)}"


def test_binder_python_and_package_install():
    (python,) = re.findall(r"^python-(3\.\d+)$", (BINDER / "runtime.txt").read_text(), re.M)
    assert python == "3.11", "the Python of CI and of the pinned stack"
    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert post.startswith("#!/bin/bash") and (BINDER / "postBuild").stat().st_mode & 0o111
    assert "pip install --no-deps ." in post


def test_binder_badge_opens_the_release_ref():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"https://mybinder\.org/v2/gh/a3net-school/a3net/([^?/)\s]+)", readme)
    assert badges and set(badges) == {_release.REF}
