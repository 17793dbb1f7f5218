"""tools/run_chapters.py: chapters as separate jobs, one per GPU, their ledgers collected in one.

Runs the tool on two small stand-in chapters (real kernels, real ledgers), with two fake GPU ids:
each job must see only its own GPU, get its seed injected after the parameters cell, write its
ledger to its own folder, and a failing job must fail the run with its error named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from a3net import chapters

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "run_chapters.py"

CLAIMS = """\
import os
from a3net.claims import Ledger

ledger = Ledger("{letter}", data_source="simulator", seed=SEED)
ledger.check("seed", SEED, ">=", 0, source="the injected seed")
gpu = float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))
ledger.check("gpu", gpu, ">=", -1, source="the GPU the job saw")
ledger.check("threads", float(os.environ.get("A3NET_THREADS", "0")), ">=", 0, source="cores")
assert os.environ["A3NET_PROFILE"] == "smoke"
assert os.environ["A3NET_STRICT_CHECKS"] == "1"
{extra}
ledger.finish()
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A repository root whose chapters A and B are small notebooks; B fails with seed 1."""
    root = tmp_path_factory.mktemp("root")
    (root / "book").mkdir()
    for letter, extra in (("A", ""), ("B", 'assert SEED != 1, "seed 1 breaks chapter B"')):
        parameters = new_code_cell("SEED = 0  # replaced by the injected cell", id="p")
        parameters.metadata["tags"] = ["parameters"]
        cells = [new_code_cell("x = 1", id="c0"), parameters]
        cells.append(new_code_cell(CLAIMS.format(letter=letter, extra=extra), id="claims"))
        nbformat.write(new_notebook(cells=cells), root / chapters.by_letter(letter).notebook)
    return root


def tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=600
    )


def test_every_job_on_its_own_gpu_and_the_ledgers_in_one_file(book, tmp_path):
    out = tmp_path / "runs"
    common = ["--root", str(book), "--profile", "smoke", "--chapters", "A", "B"]
    run_args = ["--out", str(out)]
    run = tool(*common, "--frameworks", "torch", "--seeds", "0", "1", "--gpus", "0,1", *run_args)
    assert run.returncode == 1, run.stdout + run.stderr  # B with seed 1 fails
    assert "4 jobs (smoke profile) on GPUs 0,1" in run.stdout
    assert "4 jobs, 1 failed; 4 ledgers, 12 claims, 0 failed" in run.stdout
    assert "B-torch-seed1: failed: " in run.stdout and "seed 1 breaks chapter B" in run.stdout
    assert "\x1b[" not in run.stdout, "the error is plain text, without terminal colours"
    collection = json.loads((out / "claims.json").read_text())
    assert collection["schema"] == "a3net-claims-collection/1"
    assert [j["job"] for j in collection["jobs"]] == [
        "A-torch-seed0",
        "A-torch-seed1",
        "B-torch-seed0",
        "B-torch-seed1",
    ]
    for ledger in collection["ledgers"]:
        claims = {c["name"]: c["value"] for c in ledger["claims"]}
        assert ledger["profile"] == "smoke" and ledger["framework"] == "torch"
        assert claims["seed"] == ledger["seed"] == int(ledger["job"][-1])
        assert str(int(claims["gpu"])) == ledger["gpu"] and ledger["gpu"] in {"0", "1"}
    gpus = {j["gpu"] for j in collection["jobs"]}
    assert gpus == {"0", "1"}, "both GPUs took jobs"
    executed = nbformat.read(out / "notebooks" / "A-torch-seed1.ipynb", as_version=4)
    assert executed.cells[2].metadata["tags"] == ["injected-parameters"]
    assert "SEED = 1" in executed.cells[2].source
    assert executed.cells[3].outputs, "the notebook is kept with its outputs"


def test_cpu_slots_share_the_cores_and_a_slurm_array_runs_one_job_per_task(book, tmp_path):
    out = tmp_path / "cpu"
    args = ["--root", str(book), "--profile", "smoke", "--chapters", "A", "--out", str(out)]
    run = tool(*args, "--jobs", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 jobs (smoke profile) on 2 CPU slot(s)" in run.stdout
    collection = json.loads((out / "claims.json").read_text())
    assert [j["gpu"] for j in collection["jobs"]] == [None, None]
    for ledger in collection["ledgers"]:
        claims = {c["name"]: c["value"] for c in ledger["claims"]}
        assert claims["threads"] >= 1 and claims["gpu"] == -1
    assert {led["framework"] for led in collection["ledgers"]} == {"torch", "keras"}

    script = tmp_path / "run.sbatch"
    assert tool(*args, "--slurm", str(script)).returncode == 0
    text = script.read_text()
    assert "#SBATCH --array=0-1" in text and "#SBATCH --gres=gpu:1" in text
    assert '--task "$SLURM_ARRAY_TASK_ID"' in text and "--collect" in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert (out / "logs").is_dir(), "SLURM writes its output there and does not create it"
    task = tool(*args, "--task", "1")
    assert task.returncode == 0 and "A-keras-seed0:" in task.stdout, task.stdout + task.stderr
    assert tool(*args, "--task", "2").returncode == 2  # no such task: argparse's error


def test_gpus_all_takes_the_visible_gpus_and_refuses_a_node_without_any(book, tmp_path):
    args = ["--root", str(book), "--profile", "smoke", "--chapters", "A", "--gpus", "all"]
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    visible = subprocess.run(
        [sys.executable, str(TOOL), *args, "--out", str(tmp_path / "gpus")],
        capture_output=True,
        text=True,
        env={**env, "CUDA_VISIBLE_DEVICES": "3,5"},
        timeout=600,
    )
    assert visible.returncode == 0, visible.stdout + visible.stderr
    collection = json.loads((tmp_path / "gpus" / "claims.json").read_text())
    assert {j["gpu"] for j in collection["jobs"]} <= {"3", "5"} and len(collection["jobs"]) == 2
    none = subprocess.run(
        [sys.executable, str(TOOL), *args, "--out", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/nonexistent"},
        timeout=600,
    )
    assert none.returncode == 2 and "no GPU found" in none.stderr
