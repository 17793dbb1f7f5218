"""Packaging: one version everywhere, and extras that pick the right TensorFlow (offline)."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import a3net
from a3net import _release, chapters

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
TF_DISTS = {"tensorflow", "tensorflow-cpu"}
PLATFORMS = {  # PEP 508 marker environments
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "darwin": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
}
COLAB = {"tensorflow": "2.19.0", "keras": "3.10.0", "numpy": "2.0.2"}


def canon(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def chosen(requirements: list[str], platform: str, python: str = "3.11") -> dict[str, Requirement]:
    """{name: requirement} of the requirements whose markers hold on ``platform``."""
    env = {**PLATFORMS[platform], "python_version": python, "python_full_version": python + ".5"}
    found = {}
    for line in requirements:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            found[canon(req.name)] = req
    return found


def extra(name: str, platform: str) -> dict[str, Requirement]:
    """What ``pip install a3net[name]`` adds on ``platform``, self-references expanded."""
    found = {}
    for req in chosen(EXTRAS[name], platform).values():
        if canon(req.name) == "a3net":
            for sub in sorted(req.extras):
                found.update(extra(sub, platform))
        else:
            found[canon(req.name)] = req
    return found


def requirement_lines() -> list[str]:
    """The requirement lines of requirements.txt (comments and options left out)."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith(("#", "-"))]


# One version ---------------------------------------------------------------------------------


def test_version_is_written_once_in_the_package():
    assert _release.read_version() == a3net.__version__
    assert _release.RELEASE.fullmatch(a3net.__version__)
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "a3net.__version__"}


def test_pyproject_resolves_to_the_package_version():
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    config = pyprojecttoml.read_configuration(ROOT / "pyproject.toml")
    assert config["project"]["version"] == a3net.__version__


def test_every_place_agrees_on_the_version():
    assert _release.check() == []
    version = a3net.__version__
    assert f"version      = {{{version}}}," in (ROOT / "README.md").read_text(encoding="utf-8")
    notebooks = chapters.notebooks(ROOT)
    assert _release.chapters() == notebooks, "the release tool must read a3net/chapters.py"
    for path in notebooks:
        cell = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        source = "".join(cell["source"])
        assert "google.colab" in source, f"{path.name}: cell 0 is not the Colab install cell"
        assert f'git+https://github.com/a3net-school/a3net@v{version}"' in source, path.name


@pytest.fixture
def tree(tmp_path):
    """A copy of the files that carry the version."""
    for name in ("pyproject.toml", "README.md", "a3net/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for path in _release.chapters():
        shutil.copy(path, tmp_path / "book" / path.name)
    return tmp_path


def test_set_version_rewrites_every_place_and_nothing_else(tree):
    before = {p: p.read_text(encoding="utf-8") for p in tree.rglob("*") if p.is_file()}
    _release.set_version("9.8.7rc1", root=tree)
    assert _release.read_version(tree) == "9.8.7rc1"
    assert _release.check(tree) == []
    for path, text in before.items():
        after = path.read_text(encoding="utf-8")
        old = text.replace(f"v{a3net.__version__}", "v9.8.7rc1")
        old = old.replace(f'"{a3net.__version__}"', '"9.8.7rc1"')
        old = old.replace(f"{{{a3net.__version__}}}", "{9.8.7rc1}")
        assert after == old, f"{path.name} changed beyond its version"


def test_check_names_the_place_that_disagrees(tree):
    readme = tree / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8").replace(f"{{{a3net.__version__}}}", "{0.0.1}"),
        encoding="utf-8",
    )
    problems = _release.check(tree)
    assert len(problems) == 1 and problems[0].startswith("README.md cites version ['0.0.1']")


def test_set_version_rejects_a_non_release_number(tree):
    with pytest.raises(ValueError, match="not X.Y.Z"):
        _release.set_version("v1.0", root=tree)


# Extras and pins -----------------------------------------------------------------------------


@pytest.mark.parametrize("platform, dist", [("linux", "tensorflow-cpu"), ("darwin", "tensorflow")])
def test_tensorflow_extra_picks_one_distribution_per_platform(platform, dist):
    assert TF_DISTS & extra("tensorflow", platform).keys() == {dist}
    assert TF_DISTS & extra("all", platform).keys() == {dist}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_keras_extra_keeps_the_tensorflow_already_installed(platform):
    keras = extra("keras", platform)
    assert not TF_DISTS & keras.keys(), "the keras extra must not name a TensorFlow distribution"
    assert keras["keras"].specifier.contains(COLAB["keras"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_ranges_admit_colab_and_the_pins(platform):
    ranges = {**chosen(PYPROJECT["project"]["dependencies"], platform), **extra("all", platform)}
    for name, version in COLAB.items():
        if name in ranges:
            assert ranges[name].specifier.contains(version), f"{name} {version} (Colab)"
    assert extra("tensorflow", "darwin")["tensorflow"].specifier.contains(COLAB["tensorflow"])
    pins = chosen(requirement_lines(), platform)
    for name, req in ranges.items():
        if name in pins:
            (pin,) = [s.version for s in pins[name].specifier]
            assert req.specifier.contains(pin), f"requirements.txt pins {name} {pin} outside {req}"


@pytest.mark.parametrize("platform, dist", [("linux", "tensorflow-cpu"), ("darwin", "tensorflow")])
def test_requirements_pin_one_tensorflow_per_platform(platform, dist):
    pins = chosen(requirement_lines(), platform)
    assert TF_DISTS & pins.keys() == {dist}
    versions = {
        str(chosen(requirement_lines(), p)[d].specifier)
        for p, d in (("linux", "tensorflow-cpu"), ("darwin", "tensorflow"))
    }
    assert len(versions) == 1, "tensorflow and tensorflow-cpu must be pinned to the same version"


def test_python_versions_agree_with_the_platform_check():
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    table = (ROOT / "benchmarks/results/platforms.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| pinned")]
    assert rows, "benchmarks/results/platforms.md has no pinned rows"
    for row in rows:
        assert row[-1].strip() == "ok", f"platform check failed: {'|'.join(row)}"
    minors = sorted({tuple(int(n) for n in row[2].split(".")[:2]) for row in rows})
    requirements = (ROOT / "README.md").read_text(encoding="utf-8").split("## Requirements")[1]
    requirements = requirements.split("\n## ")[0]
    for major, minor in minors:
        assert f"{major}.{minor}.99" in requires
        assert f"{major}.{minor}" in requirements, f"README: Requirements must name {major}.{minor}"
    for oldest in {row[2].strip() for row in rows} - {f"{a}.{b}.0" for a, b in minors}:
        assert f"{oldest} or later" in requirements, f"README: Requirements must name {oldest}"
    (low_major, low), (high_major, high) = minors[0], minors[-1]
    assert f"{low_major}.{low - 1}.99" not in requires, "requires-python admits an unchecked Python"
    assert f"{high_major}.{high + 1}.0" not in requires, "requires-python admits an unchecked one"
    conda = (ROOT / "environment.yml").read_text(encoding="utf-8")
    (python,) = re.findall(r"^\s*-\s*python=(\S+)\s*$", conda, re.M)
    assert tuple(int(n) for n in python.split(".")) in minors
    assert "-r requirements.txt" in conda and "-c constraints.txt" in conda


def test_keras_side_without_tensorflow_says_which_extra_to_install():
    """The `keras` extra keeps whatever TensorFlow is there; with none, one clear sentence."""
    import subprocess
    import sys

    code = "import sys; sys.modules['tensorflow'] = None; import a3net.keras"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "pip install 'a3net[tensorflow]'" in proc.stderr.splitlines()[-1]
