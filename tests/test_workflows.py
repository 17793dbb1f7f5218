"""The GitHub workflows: valid against GitHub's workflow schema, and doing what the course promises.

The schema check runs check-jsonschema (pinned in requirements.txt) with the GitHub workflow schema
it ships (`--builtin-schema vendor.github-workflows`), so it needs no network.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CPU = WORKFLOWS / "cpu.yml"
GPU = WORKFLOWS / "gpu.yml"
BOOK = WORKFLOWS / "book.yml"
COLAB = WORKFLOWS / "colab.yml"
ALL = [CPU, GPU, BOOK, COLAB]


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: expected a mapping at the top level"
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow))


def _env(workflow: dict) -> dict:
    env = dict(workflow.get("env") or {})
    for job in workflow["jobs"].values():
        env.update(job.get("env") or {})
    for step in _steps(workflow):
        env.update(step.get("env") or {})
    return {k: str(v) for k, v in env.items()}


def _check_jsonschema_command() -> list[str]:
    # Prefer the module next to the running interpreter (works inside .venv without activating it).
    return [sys.executable, "-m", "check_jsonschema"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_workflow_passes_github_schema(path: Path) -> None:
    assert path.is_file(), f"missing workflow {path.relative_to(ROOT)}"
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is pinned in requirements.txt")
    proc = subprocess.run(
        [*_check_jsonschema_command(), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"{path.name} is not a valid GitHub workflow:\n{proc.stdout}\n{proc.stderr}"
    )


def test_every_chapter_run_has_a_fixed_hash_seed() -> None:
    """seed_everything cannot fix string hashing in a running interpreter, so the runs must."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # cpu.yml runs `make test`, whose recipes inherit the Makefile's exports
    assert re.search(r"^export PYTHONHASHSEED\s*:?=\s*0\s*$", makefile, re.M)
    assert _env(_load(GPU)).get("PYTHONHASHSEED") == "0", "gpu.yml runs pytest itself"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_release(path: Path) -> None:
    for step in _steps(_load(path)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), (
                f"{path.name}: pin {step['uses']!r} to a release tag or a commit"
            )


def test_cpu_workflow_runs_make_test() -> None:
    wf = _load(CPU)
    triggers = wf["on"]
    names = set(triggers) if isinstance(triggers, (dict, list)) else {triggers}
    assert {"push", "pull_request"} <= names, f"cpu.yml triggers: {sorted(names)}"
    job_names = list(wf["jobs"])
    assert len(job_names) == 1
    job = wf["jobs"][job_names[0]]
    assert job["runs-on"] == "ubuntu-latest"
    assert job.get("timeout-minutes") == 90
    runs = [step.get("run", "").strip() for step in _steps(wf)]
    assert "make test" in runs, "cpu.yml must run the README's test command `make test`"
    assert _env(wf).get("PIP_CONSTRAINT", "").endswith("constraints.txt")
    setup = [s for s in _steps(wf) if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert setup and str(setup[0]["with"]["python-version"]) == "3.11"
    assert setup[0]["with"].get("cache") == "pip"


def test_gpu_workflow_runs_every_chapter_in_full_profile_in_both_frameworks() -> None:
    wf = _load(GPU)
    triggers = wf["on"]
    assert "workflow_dispatch" in triggers and "schedule" in triggers
    assert triggers["schedule"] and "cron" in triggers["schedule"][0]
    (job,) = wf["jobs"].values()
    assert set(job["runs-on"]) >= {"self-hosted", "gpu"}
    assert job.get("timeout-minutes") == 360
    assert sorted(job["strategy"]["matrix"]["framework"]) == ["keras", "torch"]
    env = _env(wf)
    assert env.get("A3NET_PROFILE") == "full"
    assert env.get("A3NET_FRAMEWORK") == "${{ matrix.framework }}"
    assert env.get("PIP_CONSTRAINT", "").endswith("constraints.txt")
    text = _run_text(wf)
    assert re.search(r"python tools/run_chapters\.py --profile full --gpus all\b", text), (
        "gpu.yml must run the chapters as one job per GPU with tools/run_chapters.py"
    )
    assert '--frameworks "$A3NET_FRAMEWORK"' in text and '--out "$RUNS"' in text
    assert not re.search(r"book/\[?[A-Z]", text), "gpu.yml must not list chapters itself"
    assert "-r requirements.txt" in text and "-c constraints.txt" in text
    assert "torch==2.13.0" in text and "tensorflow[and-cuda]==2.21.0" in text
    uploads = [
        s for s in _steps(wf) if str(s.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert uploads, "gpu.yml must upload the executed notebooks"
    assert uploads[0]["with"]["path"] == "${{ env.RUNS }}" and env["RUNS"] == "_build/runs/full"


def test_book_workflow_publishes_each_release_under_its_own_path() -> None:
    wf = _load(BOOK)
    assert wf["on"]["push"]["tags"] == ["v*"]
    (job,) = wf["jobs"].values()
    env = _env(wf)
    assert env["A3NET_PROFILE"] == "default" and env["PIP_CONSTRAINT"].endswith("constraints.txt")
    assert "make book" in [step.get("run", "").strip() for step in _steps(wf)]
    (deploy,) = [s for s in _steps(wf) if str(s.get("uses", "")).startswith("peaceiris/")]
    assert deploy["with"]["publish_dir"] == "_build/html"
    assert deploy["with"]["destination_dir"] == "${{ github.ref_name }}"
    assert deploy["with"]["keep_files"] is True, "earlier releases stay published"
    assert "a3net._release --check" in _run_text(wf)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "https://a3net-school.github.io/a3net/<tag>/" in readme


def test_colab_workflow_runs_the_smoke_parts_on_colabs_versions() -> None:
    wf = _load(COLAB)
    (setup,) = [s for s in _steps(wf) if str(s.get("uses", "")).startswith("actions/setup-python")]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import resolve_platforms
    finally:
        sys.path.pop(0)
    colab_minor = ".".join(resolve_platforms.COLAB_PYTHON.split(".")[:2])
    assert str(setup["with"]["python-version"]) == colab_minor
    text = _run_text(wf)
    assert "benchmarks/resolve_platforms.py --colab-requirements" in text
    assert '-c "$RUNNER_TEMP/colab.txt" -e ".[torch,keras,e2cnn]"' in text
    assert "make unit student-run notebooks" in text
    assert "PIP_CONSTRAINT" not in _env(wf), "Colab's numpy is older than constraints.txt's"
    printed = subprocess.run(
        [sys.executable, "benchmarks/resolve_platforms.py", "--colab-requirements"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.split()
    assert printed == resolve_platforms.COLAB
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    smoke = re.search(r"^test: (.*)$", makefile, re.M)[1].split()
    assert {"unit", "student-run", "notebooks"} <= set(smoke)


def test_make_runs_calls_the_job_runner() -> None:
    def dry(*args):
        return subprocess.run(
            ["make", "-n", "runs", *args], capture_output=True, text=True, cwd=ROOT
        ).stdout

    assert "tools/run_chapters.py --profile full --seeds 0 \\\n\t--gpus all" in dry()
    assert "--profile smoke --seeds 0 \\\n\t--jobs 2" in dry("RUN_PROFILE=smoke", "JOBS=2")


# ------------------------------------------------------------------ habits: pre-commit = make lint


def _lint_recipe() -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    return recipe.replace("$(VENV)/bin/", ".venv/bin/").replace("$(PY) ", "python3 ")


def test_pre_commit_hooks_are_the_commands_of_make_lint() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in hooks} == {"ruff", "ruff-format", "notebook-outputs", "chapters"}
    recipe = _lint_recipe()
    for repo in config["repos"]:
        assert repo["repo"] == "local", "hooks run the tools of .venv: nothing to download"
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]
        command = hook["entry"].replace(" --force-exclude", "")
        assert command in recipe, f"hook {hook['id']} runs {command!r}, which make lint does not"


def test_notebook_output_check_fails_on_outputs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    clean = new_notebook(cells=[new_code_cell("x = 1")])
    dirty = new_notebook(
        cells=[new_code_cell("print(1)", execution_count=1, outputs=[new_output("stream")])]
    )
    nbformat.write(clean, tmp_path / "clean.ipynb")
    script = [sys.executable, str(ROOT / "tools/check_notebook_outputs.py")]
    ok = subprocess.run([*script, str(tmp_path)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "sub").mkdir()
    nbformat.write(dirty, tmp_path / "sub" / "dirty.ipynb")
    bad = subprocess.run([*script, str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "dirty.ipynb: code cells [0] carry outputs" in bad.stderr
    assert "clean.ipynb" not in bad.stderr
    book = subprocess.run([*script, str(ROOT / "book")], capture_output=True, text=True)
    assert book.returncode == 0, book.stderr
