"""Check that the course's stack resolves on every platform and Python the README names.

For each target (Linux x86_64, macOS arm64) and Python version, runs ``pip install --dry-run
--report`` (nothing is installed; wheels are fetched only for their metadata) on:

- ``pinned``: requirements.txt + constraints.txt + a3net[all], as ``make venv`` installs it; every
  resolved version must equal its pin, and exactly one TensorFlow distribution must come in;
- ``ranges``: a3net[all] + jupyter-book from pyproject's ranges, with constraints.txt only;
- ``colab`` (Linux, Python 3.12): a3net[torch,keras] next to Colab's tensorflow 2.19, keras 3.10
  and numpy 2.0.2; nothing of those may change and no second TensorFlow may come in.

pip's ``--platform`` only picks wheel tags: it evaluates environment markers for the machine it
runs on. The pip run here therefore gets the target's marker environment. This machine's registry
mirror serves none of torch's CUDA libraries (nvidia-*, cuda-*, triton: markers on
``platform_system == "Linux"``); they are left out of the Linux resolutions and named in the table.
Needs the registry (PyPI) and pip 26 (the pip run patches two of pip's internals; see RUNNER).

    python benchmarks/resolve_platforms.py [--python 3.11.5 3.12.0] [--out FILE.md]
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
    "e2cnn",
    "jupyter-book",
]
COLAB = ["tensorflow==2.19.0", "keras==3.10.0", "numpy==2.0.2"]
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
    if scenario == "colab":
        for req in COLAB:
            name, version = req.split("==")
            if got.get(name) != version:
                found.append(f"{name} {got.get(name)} (Colab has {version})")
    return found


def main(argv: list[str] | None = None) -> int:
    """Resolve every scenario, write the Markdown table, return 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--python",
        nargs="+",
        default=["3.11.5", "3.12.0"],
        help="the oldest micro version of each minor version promised",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/platforms.md")
    args = parser.parse_args(argv)
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
            ("colab", "Linux x86_64", "3.12.0", [f"{wheel}[torch,keras]", "torch==2.13.0", *COLAB])
        ]
        for scenario, target, python, reqs in runs:
            got, error = resolve(target, python, reqs, tmp)
            issues = [error] if got is None else problems(scenario, got)
            failed |= bool(issues)
            shown = ["-" if got is None else got.get(name, "-") for name in SHOWN]
            rows.append([scenario, target, python, *shown, "; ".join(issues) or "ok"])
            print(f"{scenario:7s} {target:13s} {python}: {rows[-1][-1]}", flush=True)
    header = ["scenario", "platform", "Python", *SHOWN, "result"]
    lines = [
        "# Platform resolution",
        "",
        f"Written by `python benchmarks/resolve_platforms.py` ({pip}, `pip install --dry-run "
        "--report` with the target's marker environment). `pinned`: requirements.txt + "
        "constraints.txt + a3net[all] (every version must equal its pin); `ranges`: "
        "a3net[all] + jupyter-book from pyproject's ranges (with constraints.txt); `colab`: "
        f"a3net[torch,keras] next to {', '.join(COLAB)}. Linux: torch's CUDA libraries "
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
