"""a3net.evaluation is the one home of every score: the old modules (metrics, comparison,
interpret, spectra_eval) only re-export it, nothing is defined twice, importing it loads no
deep-learning framework, and every name the book, the package and the benchmarks take from the
old modules still resolves. a3net.data re-exports every simulate_* and load_* of its modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import a3net
import a3net.data
import a3net.evaluation

ROOT = Path(a3net.__file__).resolve().parent.parent

# Every public name each old module had before the move, and the module that is now its home.
OLD_HOMES = {
    "a3net.metrics": {
        "regression": [
            "NMAD", "OUTLIER_THRESHOLD", "majority_accuracy", "normalized_residuals",
            "outlier_fraction", "parameter_scores", "photoz_scores", "pit", "r2_per_parameter",
            "redshift_bias", "rmse", "rmse_table", "sigma_nmad",
        ],
        "masses": ["binned_bias", "mass_bias_scatter"],
        "rings": ["circle_cramer_rao", "ring_fisher_information"],
        "spectra": [
            "CrossCorrelation", "DN4000_BLUE", "DN4000_RED", "best_template_redshift", "dn4000",
            "xcorr_redshift",
        ],
        "frechet": ["FrechetScore", "SpectrumFeatures", "frechet_distance", "frechet_gaussian"],
    },
    "a3net.comparison": {
        "tables": ["SCORE_COLUMNS", "compare_regressors", "scores_row"],
        "bootstrap": ["bootstrap_difference", "bootstrap_error", "group_bootstrap"],
    },
    "a3net.interpret": {
        "saliency": [
            "SALIENCY_METHODS", "_attribution_maps", "enclosed_fraction", "normalise_maps",
            "outskirt_to_core_ratio", "radial_profile",
        ],
    },
    "a3net.spectra_eval": {"judge": ["CONTINUUM_LOG_WIDTH", "GeneratorJudge"]},
}  # fmt: skip

OLD_NAME_CASES = [
    (old, home, name) for old, homes in OLD_HOMES.items() for home, names in homes.items()
    for name in names
]  # fmt: skip


@pytest.mark.parametrize(("old", "home", "name"), OLD_NAME_CASES)
def test_old_name_is_the_very_object_of_its_new_home(old, home, name):
    new = importlib.import_module(f"a3net.evaluation.{home}")
    assert getattr(importlib.import_module(old), name) is getattr(new, name)
    if not name.startswith("_"):
        assert getattr(a3net.evaluation, name) is getattr(new, name)


@pytest.mark.parametrize("old", sorted(OLD_HOMES))
def test_old_modules_only_re_export(old):
    """An old module defines no function or class of its own and exports exactly its old names."""
    module = importlib.import_module(old)
    for name, value in vars(module).items():
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__module__.startswith("a3net.evaluation."), f"{old}.{name} is a copy"
    public = {n for names in OLD_HOMES[old].values() for n in names if not n.startswith("_")}
    assert set(module.__all__) == public
    assert len((module.__doc__ or "").strip().splitlines()) == 1


def test_every_evaluation_name_has_one_home():
    homes = {}
    for module in a3net.evaluation.MODULES:
        for name in module.__all__:
            assert name not in homes, f"{name} is exported by {homes.get(name)} and {module}"
            homes[name] = module.__name__
            assert getattr(a3net.evaluation, name) is getattr(module, name)
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                assert value.__module__ == module.__name__
    assert sorted(homes) == sorted(a3net.evaluation.__all__)
    on_disk = {p.stem for p in (ROOT / "a3net" / "evaluation").glob("*.py")} - {"__init__"}
    assert on_disk == {m.__name__.rsplit(".", 1)[1] for m in a3net.evaluation.MODULES}


# Functions outside a3net/evaluation that share a name with one inside but do something else.
HOMONYMS = {
    ("a3net/data/rings.py", "radial_profile"),  # a ring image's intensity around its own centre
}


def test_no_second_copy_of_an_evaluation_function_in_the_package():
    """No module outside a3net/evaluation defines a function or class of the same name."""
    names = [
        name for module in a3net.evaluation.MODULES for name in module.__all__
        if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))
    ]  # fmt: skip
    pattern = re.compile(rf"^\s*(?:def|class) ({'|'.join(names)})\b", re.M)
    for path in (ROOT / "a3net").rglob("*.py"):
        if "evaluation" in path.relative_to(ROOT / "a3net").parts:
            continue
        found = pattern.findall(path.read_text(encoding="utf-8"))
        found = [n for n in found if (path.relative_to(ROOT).as_posix(), n) not in HOMONYMS]
        assert not found, f"{path.relative_to(ROOT)} defines {found} again"


def test_fresh_imports_have_no_cycle_and_load_no_framework():
    """Each entry point imported first in a fresh interpreter; a3net.evaluation loads neither
    torch nor TensorFlow."""
    entries = [
        "a3net.evaluation", "a3net.metrics", "a3net.comparison", "a3net.interpret",
        "a3net.spectra_eval", "a3net.latent", "a3net.baselines.spectra",
        "a3net.evaluation.judge", "a3net.evaluation.saliency", "a3net.data",
        "a3net.data.spectra_prep",
    ]  # fmt: skip
    script = (
        "import importlib, sys\n"
        f"for name in {entries!r}:\n"
        "    for key in [k for k in sys.modules if k == 'a3net' or k.startswith('a3net.')]:\n"
        "        del sys.modules[key]\n"
        "    importlib.import_module(name)\n"
        "    loaded = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]\n"
        "    assert not loaded, f'importing {name} loaded {loaded}'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


OLD_MODULES = ("metrics", "comparison", "interpret", "spectra_eval", "latent")


def _sources():
    """(package, Python source) of every notebook of the book and every .py of the package and
    the benchmarks outside a3net/evaluation; a notebook's code cells joined, magics dropped."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        yield "", "\n".join(line for line in code.splitlines() if not line.startswith(("%", "!")))
    for folder in ("a3net", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "evaluation" not in parts:
                package = ".".join(parts if parts[-1] == "__init__" else parts[:-1])
                yield package.removesuffix(".__init__"), path.read_text(encoding="utf-8")


def _referenced_names():
    """(old module, name) pairs that the book, the package and the benchmarks use:
    ``from a3net.X import a, b`` (relative imports too) and ``from a3net import X`` then ``X.a``."""
    pairs = set()
    for package, source in _sources():
        tree = ast.parse(source)
        bound = {}  # local name -> old module it stands for
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                if base.startswith("a3net.") and base[6:] in OLD_MODULES:
                    pairs.add((base[6:], alias.name))
                elif base == "a3net" and alias.name in OLD_MODULES:
                    bound[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
            ):
                pairs.add((bound[node.value.id], node.attr))
    return sorted(pairs)


def test_every_name_taken_from_an_old_module_still_resolves():
    pairs = _referenced_names()
    assert ("metrics", "mass_bias_scatter") in pairs and ("interpret", "_attribution_maps") in pairs
    missing = [
        f"a3net.{m}.{n}" for m, n in pairs if not hasattr(importlib.import_module(f"a3net.{m}"), n)
    ]
    assert not missing, f"no longer importable: {missing}"


def _data_modules():
    """The public modules of a3net.data (private helpers such as ``_cache`` are not datasets)."""
    for info in pkgutil.walk_packages(a3net.data.__path__, "a3net.data."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def test_data_re_exports_every_simulate_and_load_function():
    """As astroML's datasets: every public simulate_*/load_* of a3net/data/*.py is
    ``a3net.data.<name>`` and listed in ``a3net.data.__all__``."""
    found = {}
    for module in _data_modules():
        for name, value in vars(module).items():
            if (
                name.startswith(("simulate_", "load_"))
                and inspect.isfunction(value)
                and value.__module__ == module.__name__
            ):
                found[name] = module.__name__
                assert getattr(a3net.data, name, None) is value, (
                    f"{module.__name__}.{name} is not re-exported by a3net.data"
                )
    assert found, "no simulate_*/load_* function found under a3net/data"
    assert sorted(found) == sorted(a3net.data.__all__)
