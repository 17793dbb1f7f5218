"""Packaging: one version and one ref everywhere, extras that pick the right TensorFlow, and a
picture of Colab that is not older than the one named here (offline)."""

from __future__ import annotations

import datetime
import importlib.util
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

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
_spec = importlib.util.spec_from_file_location(
    "resolve_platforms", ROOT / "benchmarks/resolve_platforms.py"
)
resolve_platforms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(resolve_platforms)
COLAB = resolve_platforms.COLAB_SET  # the Colab set the project records (and resolves against)
# The newest Colab runtime this file knows of: googlecolab/backend-info on 2026-08-25, when Colab
# moved to Python 3.13 (googlecolab/colabtools issue 6081). When Colab moves on, raise this first:
# test_recorded_colab_set_is_not_older_than_the_one_named_here then fails until
# benchmarks/resolve_platforms.py records the new set and its table is run again.
COLAB_AT_LEAST = {
    "date": "2026-08-25",
    "python": "3.13.15",
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


def test_every_place_agrees_on_the_version_and_the_ref():
    assert _release.check() == []
    version, ref = a3net.__version__, _release.REF
    assert _release.read_ref() == ref
    assert ref == "main" or ref == f"v{version}", "the ref is main until a release, then its tag"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"version      = {{{version}}}," in readme
    assert f"mybinder.org/v2/gh/a3net-school/a3net/{ref}?" in readme
    assert f"colab.research.google.com/github/a3net-school/a3net/blob/{ref}/book/" in readme
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["branch"] == ref, "the launch buttons open the same ref"
    notebooks = chapters.notebooks(ROOT)
    assert _release.chapters() == notebooks, "the release tool must read a3net/chapters.py"
    for chapter, path in zip(chapters.CHAPTERS, notebooks, strict=True):
        cell = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        source = "".join(cell["source"])
        assert "google.colab" in source, f"{path.name}: cell 0 is not the Colab install cell"
        assert f'ref, extras = "{ref}", "{chapter.extras}"' in source, path.name
        assert source == _release.colab_cell(chapter), path.name


def test_chapter_g_installs_e2cnn_and_the_others_do_not_need_it():
    extras = {c.letter: set(c.extras.split(",")) for c in chapters.CHAPTERS}
    assert extras.pop("G") == {"torch", "keras", "e2cnn"}
    assert all(e == {"torch", "keras"} for e in extras.values()), extras


@pytest.fixture
def tree(tmp_path):
    """A copy of the files that carry the version or the ref."""
    names = ("pyproject.toml", "README.md", "_config.yml", "a3net/__init__.py", "a3net/_release.py")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for path in _release.chapters():
        shutil.copy(path, tmp_path / "book" / path.name)
    return tmp_path


def test_set_version_rewrites_every_place_and_nothing_else(tree):
    before = {p: p.read_text(encoding="utf-8") for p in tree.rglob("*") if p.is_file()}
    version, ref = a3net.__version__, _release.REF
    _release.set_version("9.8.7rc1", root=tree)
    assert _release.read_version(tree) == "9.8.7rc1"
    assert _release.read_ref(tree) == "v9.8.7rc1"
    assert _release.check(tree) == []
    for path, text in before.items():
        after = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            old, new = json.loads(text)["cells"], json.loads(after)["cells"]
            chapter = chapters.by_letter(path.name[0])
            assert "".join(new[0]["source"]) == _release.colab_cell(chapter, "v9.8.7rc1")
            assert new[1:] == old[1:], f"{path.name} changed beyond its Colab cell"
            continue
        old = text.replace(f"a3net/{ref}?", "a3net/v9.8.7rc1?")
        old = old.replace(f"/blob/{ref}/", "/blob/v9.8.7rc1/")
        old = old.replace(f"branch: {ref}\n", "branch: v9.8.7rc1\n")
        old = old.replace(f'REF = "{ref}"', 'REF = "v9.8.7rc1"')
        old = old.replace(f'"{version}"', '"9.8.7rc1"')
        old = old.replace(f"{{{version}}}", "{9.8.7rc1}")
        assert after == old, f"{path.name} changed beyond its version and ref"


def test_set_ref_back_to_main_and_refusals(tree):
    _release.set_version("9.8.7", root=tree)
    assert "@v9.8.7" not in "".join(_release.colab_cell(chapters.CHAPTERS[0], "main"))
    _release.set_ref("main", root=tree)
    assert _release.read_ref(tree) == "main" and _release.check(tree) == []
    with pytest.raises(ValueError, match="not a branch or tag name"):
        _release.set_ref("main; rm -rf /", root=tree)


def test_check_names_a_badge_or_cell_that_disagrees(tree):
    readme = tree / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("/blob/main/", "/blob/v0.0.1/"), encoding="utf-8")
    path = tree / "book" / chapters.CHAPTERS[-1].notebook.split("/")[-1]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"][0]["source"] = ["%pip install a3net\n"]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    problems = _release.check(tree)
    assert len(problems) == 2, problems
    assert problems[0].startswith("README.md's Colab badge opens ['v0.0.1'] ref, not main")
    assert problems[1].startswith(f"book/{path.name} cell 0 is not the Colab cell of ref main")


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
    assert not {"numpy"} & keras.keys(), "only the e2cnn extra caps numpy"


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


# Colab ------------------------------------------------------------------------------------


def colab_problems(named: dict[str, str]) -> list[str]:
    """Where the Colab set recorded in benchmarks/resolve_platforms.py is older than ``named``."""
    named = dict(named)
    found = []
    date, python = named.pop("date"), named.pop("python")
    recorded = datetime.date.fromisoformat(resolve_platforms.COLAB_DATE)
    if recorded < datetime.date.fromisoformat(date):
        found.append(f"the recorded Colab set is of {recorded}, older than {date}")
    if Version(resolve_platforms.COLAB_PYTHON) < Version(python):
        found.append(
            f"Colab's Python is recorded as {resolve_platforms.COLAB_PYTHON}, not {python}"
        )
    for name, version in named.items():
        if name not in COLAB or Version(COLAB[name]) < Version(version):
            found.append(f"Colab's {name} is recorded as {COLAB.get(name)}, older than {version}")
    return found


def test_recorded_colab_set_is_not_older_than_the_one_named_here():
    assert colab_problems(COLAB_AT_LEAST) == []
    newer = {**COLAB_AT_LEAST, "date": "2099-01-01", "torch": "99.0"}
    assert len(colab_problems(newer)) == 2, "the check must notice a newer Colab"


def test_platform_table_resolves_every_chapter_cell_against_the_recorded_colab_set():
    """The table of benchmarks/resolve_platforms.py: for each set of extras a chapter's cell
    asks for, a3net installs next to Colab's set on Colab's Python and changes none of it."""
    table = (ROOT / "benchmarks/results/platforms.md").read_text(encoding="utf-8")
    assert resolve_platforms.COLAB_DATE in table and resolve_platforms.COLAB_SOURCE in table
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("| scenario")).split("|")[1:-1]
    header = [h.strip() for h in header]
    rows = [
        [c.strip() for c in line.split("|")[1:-1]] for line in lines if line.startswith("| colab")
    ]
    wanted = {f"colab[{c.extras}]" for c in chapters.CHAPTERS}
    assert {row[0] for row in rows} == wanted
    for row in rows:
        got = dict(zip(header, row, strict=True))
        assert got["result"] == "ok", row
        assert got["Python"] == resolve_platforms.COLAB_PYTHON
        for name, version in COLAB.items():
            if name in got:
                assert got[name] == version, f"{row[0]}: {name} {got[name]}, Colab has {version}"
        assert got["a3net"] == a3net.__version__
        assert (got["e2cnn"] != "-") == ("e2cnn" in row[0]), row[0]


def test_requires_python_admits_colab_and_numpy_is_capped_only_with_e2cnn():
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert resolve_platforms.COLAB_PYTHON in requires
    (numpy,) = [Requirement(r) for r in PYPROJECT["project"]["dependencies"] if "numpy" in r]
    assert not any(s.operator in ("<", "<=", "==", "~=") for s in numpy.specifier), numpy
    (cap,) = [Requirement(r) for r in EXTRAS["e2cnn"] if r.startswith("numpy")]
    assert not cap.specifier.contains("2.3.0") and cap.specifier.contains(COLAB["numpy"])
    for name in ("torch", "keras"):
        assert not [r for r in EXTRAS[name] if r.startswith("numpy")], name


def test_torch_lower_bound_has_the_precision_api_a3net_sets():
    """a3net/_threads.py sets torch.backends.cuda.matmul.fp32_precision, new in torch 2.9."""
    source = (ROOT / "a3net/_threads.py").read_text(encoding="utf-8")
    assert "torch.backends.cuda.matmul.fp32_precision" in source
    (torch_req,) = [Requirement(r) for r in EXTRAS["torch"]]
    assert not torch_req.specifier.contains("2.8.0") and torch_req.specifier.contains("2.9.0")
    torch = pytest.importorskip("torch")
    assert hasattr(torch.backends.cuda.matmul, "fp32_precision")


def test_keras_side_without_tensorflow_says_which_extra_to_install():
    """The `keras` extra keeps whatever TensorFlow is there; with none, one clear sentence."""
    import subprocess
    import sys

    code = "import sys; sys.modules['tensorflow'] = None; import a3net.keras"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "pip install 'a3net[tensorflow]'" in proc.stderr.splitlines()[-1]
