"""Check that the course's stack resolves on every platform and Python the README names.

For each target (Linux x86_64, macOS arm64) and Python version, runs ``pip install --dry-run
--report`` (nothing is installed; wheels are fetched only for their metadata) on:

- ``pinned``: requirements.txt + constraints.txt + a3net[all], as ``make venv`` installs it; every
  resolved version must equal its pin, and exactly one TensorFlow distribution must come in;
- ``ranges``: a3net[all] + jupyter-book from pyproject's ranges, with constraints.txt only;
- ``colab`` (Linux, Colab's Python): a3net with the extras each chapter's Colab cell asks for
  (``a3net/chapters.py``: ``[torch,keras]``, ``[torch,keras,e2cnn]`` for G) next to Colab's
  preinstalled set (``COLAB`` below); nothing of that set may change and no second TensorFlow may
  come in.

pip's ``--platform`` only picks wheel tags: it evaluates environment markers for the machine it
runs on. The pip run here therefore gets the target's marker environment. This machine's registry
mirror serves none of torch's CUDA libraries (nvidia-*, cuda-*, triton: markers on
``platform_system == "Linux"``); they are left out of the Linux resolutions and named in the table.
Needs the registry (PyPI) and pip 26 (the pip run patches two of pip's internals; see RUNNER).

    python benchmarks/resolve_platforms.py [--python 3.11.5 3.12.0 3.13.0] [--out FILE.md]
    python benchmarks/resolve_platforms.py --colab-requirements   # Colab's set, one pin a line
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "Linux x86_64": {
        # glibc 2.35 (Ubuntu 22.04, Colab) and every older manylinux tag: pip does not expand them.
        "platforms": [
            *(f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)),
            "manylinux2014_x86_64",
            "manylinux2010_x86_64",
            "manylinux1_x86_64",
        ],
        "env": {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
            "os_name": "posix",
        },
    },
    "macOS arm64": {
        "platforms": ["macosx_14_0_arm64"],  # pip adds the older macOS tags itself
        "env": {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "platform_machine": "arm64",
            "os_name": "posix",
        },
    },
}
SKIPPED = r"nvidia-.*|cuda-.*|triton"
SHOWN = [
    "torch",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "scipy",
    "scikit-learn",
    "scikit-image",
    "pandas",
    "astropy",
    "e2cnn",
    "jupyter-book",
    "a3net",
]
# Colab's preinstalled versions, as googlecolab/backend-info lists them (its pip freeze of the
# runtime); Colab moved to Python 3.13 on 2026-08-25 (googlecolab/colabtools issue 6081). Copied
# from issue 24 of this project, which read backend-info; update all three together, and the date
# in tests/test_packaging.py (COLAB_AT_LEAST), which fails while this set is older.
COLAB_SOURCE = "googlecolab/backend-info (pip freeze of the Colab runtime)"
COLAB_DATE = "2026-08-25"
COLAB_PYTHON = "3.13.15"
COLAB_SET = {
    "numpy": "2.1.3",
    "torch": "2.11.0",
    "tensorflow": "2.20.0",
    "keras": "3.13.2",
    "pandas": "2.2.3",
    "scikit-learn": "1.6.1",
    "scikit-image": "0.25.2",
    "scipy": "1.16.3",
    "astropy": "7.2.2",
}
COLAB = [f"{name}=={version}" for name, version in COLAB_SET.items()]
TF_DISTS = {"tensorflow", "tensorflow-cpu"}
UNPINNED = {"a3net", "pip", "setuptools", "wheel"}  # pip freeze leaves the last three out

# Runs pip with the marker environment of the target and without the skipped requirements.
RUNNER = """
import json, re, sys
import pip._vendor.packaging.markers as markers
from pip._vendor.packaging.requirements import Requirement
from pip._internal.resolution.resolvelib.factory import Factory
env, skipped, args = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
markers.default_environment = lambda: dict(env)
original = Factory.make_requirements_from_spec
def make(self, specifier, *a, **k):
    if skipped and re.fullmatch(skipped, Requirement(specifier).name, re.I):
        return iter(())
    return original(self, specifier, *a, **k)
Factory.make_requirements_from_spec = make
from pip._internal.cli.main import main
sys.exit(main(args))
"""


def colab_extras() -> list[str]:
    """The distinct extras the chapters' Colab cells install, from the registry."""
    sys.path.insert(0, str(ROOT))
    from a3net import chapters

    return sorted({chapter.extras for chapter in chapters.CHAPTERS})


def canon(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def marker_env(target: str, python: str) -> dict[str, str]:
    """The PEP 508 marker environment of ``target`` running CPython ``python``."""
    full = python if python.count(".") == 2 else python + ".0"
    return {
        **TARGETS[target]["env"],
        "python_version": ".".join(full.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": full,
        "platform_release": "",
        "platform_version": "",
    }


def build_wheel(tmp: Path) -> Path:
    """a3net's wheel, built from a copy of the package so the working tree stays clean."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "a3net", src / "a3net", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp), str(src)],
        check=True,
        capture_output=True,
    )
    return next(tmp.glob("a3net-*.whl"))


def resolve(target: str, python: str, reqs: list[str], tmp: Path) -> tuple[dict | None, str]:
    """Resolved {name: version} of ``reqs`` on ``target``/``python``, or None and pip's error."""
    report = tmp / "report.json"
    report.unlink(missing_ok=True)
    args = [
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--report",
        str(report),
        "--only-binary=:all:",
        *(f"--platform={tag}" for tag in TARGETS[target]["platforms"]),
        "--python-version",
        python,
        "--implementation",
        "cp",
        *reqs,
    ]
    skipped = SKIPPED if TARGETS[target]["env"]["platform_system"] == "Linux" else ""
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(marker_env(target, python)), skipped, *args],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    errors = [
        line
        for line in run.stderr.splitlines()
        if line.startswith("ERROR") and "is ignored" not in line
    ]
    if run.returncode or not report.exists():
        last = run.stderr.strip().splitlines()[-1:] or [f"pip exited with {run.returncode}"]
        return None, " ".join(errors or last)
    items = json.loads(report.read_text())["install"]
    return {canon(i["metadata"]["name"]): i["metadata"]["version"] for i in items}, ""


def pins(path: Path) -> dict[str, str]:
    """{name: version} of the ``name==version`` lines of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line.strip())
        if match:
            found[canon(match[1])] = match[2]
    return found


def problems(scenario: str, got: dict[str, str]) -> list[str]:
    """What is wrong with a successful resolution of ``scenario``."""
    found = []
    tfs = sorted(TF_DISTS & got.keys())
    if len(tfs) != 1:
        found.append(f"{len(tfs)} TensorFlow distributions, not one: {', '.join(tfs)}")
    if scenario == "pinned":
        pinned = pins(ROOT / "requirements.txt")
        for name, version in sorted(got.items()):
            want = pinned.get(name)
            if want and version.split("+")[0] != want:
                found.append(f"{name} {version} (pinned {want})")
            elif name not in UNPINNED and not want:
                found.append(f"{name} {version} (not pinned)")
    if scenario.startswith("colab"):
        for name, version in COLAB_SET.items():
            if got.get(name) != version:
                found.append(f"{name} {got.get(name)} (Colab has {version})")
        if "a3net" not in got:
            found.append("a3net not installed")
        for extra in scenario.partition("[")[2].rstrip("]").split(","):
            if extra == "e2cnn" and "e2cnn" not in got:
                found.append("e2cnn not installed")
    return found


def main(argv: list[str] | None = None) -> int:
    """Resolve every scenario, write the Markdown table, return 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--python",
        nargs="+",
        default=["3.11.5", "3.12.0", "3.13.0"],
        help="the oldest micro version of each minor version promised",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/platforms.md")
    parser.add_argument(
        "--colab-requirements",
        action="store_true",
        help="print Colab's preinstalled set as requirements (name==version) and stop",
    )
    args = parser.parse_args(argv)
    if args.colab_requirements:
        print("\n".join(COLAB))
        return 0
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True
    ).stdout.split(" from ")[0]
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wheel = build_wheel(tmp)
        everything = f"{wheel}[all]"
        constraints = ["-c", str(ROOT / "constraints.txt")]
        runs = [
            ("pinned", t, p, ["-r", str(ROOT / "requirements.txt"), *constraints, everything])
            for t in TARGETS
            for p in args.python
        ]
        runs += [
            ("ranges", t, p, [*constraints, everything, "jupyter-book>=1.0.4,<2"])
            for t in TARGETS
            for p in args.python
        ]
        runs += [
            (f"colab[{extras}]", "Linux x86_64", COLAB_PYTHON, [f"{wheel}[{extras}]", *COLAB])
            for extras in colab_extras()
        ]
        for scenario, target, python, reqs in runs:
            got, error = resolve(target, python, reqs, tmp)
            issues = [error] if got is None else problems(scenario, got)
            failed |= bool(issues)
            shown = ["-" if got is None else got.get(name, "-") for name in SHOWN]
            rows.append([scenario, target, python, *shown, "; ".join(issues) or "ok"])
            print(f"{scenario:24s} {target:13s} {python}: {rows[-1][-1]}", flush=True)
    header = ["scenario", "platform", "Python", *SHOWN, "result"]
    lines = [
        "# Platform resolution",
        "",
        f"Written by `python benchmarks/resolve_platforms.py` ({pip}, `pip install --dry-run "
        "--report` with the target's marker environment). `pinned`: requirements.txt + "
        "constraints.txt + a3net[all] (every version must equal its pin); `ranges`: "
        "a3net[all] + jupyter-book from pyproject's ranges (with constraints.txt); `colab`: "
        f"a3net with each chapter cell's extras next to Colab's preinstalled set of "
        f"{COLAB_DATE} ({COLAB_SOURCE}; Python {COLAB_PYTHON}): {', '.join(COLAB)}. "
        "Linux: torch's CUDA libraries "
        f"(`{SKIPPED}`) are left out (this machine's mirror does not serve them; the course "
        "installs the CPU build), and `2.13.0+cpu` is the CPU build from this machine's local "
        "wheel for Python 3.11. `-`: not installed.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"Table: {args.out}")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
