"""Run every chapter of a profile as separate jobs, one per GPU, and collect their claims ledgers.

One job is one chapter notebook in one framework with one seed, executed by nbclient in its own
process with ``A3NET_PROFILE``, ``A3NET_FRAMEWORK``, ``A3NET_STRICT_CHECKS=1``, its own claims
folder (``A3NET_CLAIMS_DIR``) and, on a multi-GPU node, ``CUDA_VISIBLE_DEVICES`` set to the one GPU
it gets. The seed goes in as papermill does it: a cell tagged ``injected-parameters`` that sets
``SEED`` right after the cell tagged ``parameters``. The jobs wait in a queue; each GPU (or, on a
CPU, each of ``--jobs`` slots) takes the next one when it is free. The chapters come from the
registry ``a3net/chapters.py``.

    python tools/run_chapters.py --profile full --gpus all            # every GPU of this node
    python tools/run_chapters.py --profile full --gpus 0,1 --seeds 0 1 2
    python tools/run_chapters.py --profile smoke --jobs 2              # a CPU, two at a time
    python tools/run_chapters.py --profile full --slurm run.sbatch     # a SLURM job array instead
    sbatch run.sbatch && python tools/run_chapters.py --profile full --collect   # afterwards

Writes, under ``--out`` (default ``_build/runs/<profile>``): ``notebooks/<job>.ipynb`` (executed,
with outputs), ``claims/<job>/<L>-<profile>-<framework>.json`` (each job's ledger),
``jobs/<job>.json`` (the job, its GPU, seconds, result) and ``claims.json``, every ledger and job
in one file. Exits 1 when a job failed (a cell raised, a claim failed) or a ledger is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from a3net import chapters as registry  # noqa: E402  (the registry imports the standard library only)

SCHEMA = "a3net-claims-collection/1"
PROFILES = ("smoke", "default", "full")
FRAMEWORKS = ("torch", "keras")


@dataclass(frozen=True)
class Job:
    """One chapter, one framework, one seed."""

    index: int
    chapter: str
    framework: str
    seed: int
    notebook: str  # relative to the root

    @property
    def name(self) -> str:
        return f"{self.chapter}-{self.framework}-seed{self.seed}"


def plan(letters, frameworks, seeds, root: Path = ROOT) -> list[Job]:
    """The jobs, chapter by chapter in the registry's order, then framework, then seed."""
    rows = [registry.by_letter(letter) for letter in letters] if letters else registry.CHAPTERS
    jobs = []
    for chapter, framework, seed in itertools.product(rows, frameworks, seeds):
        if not (root / chapter.notebook).is_file():
            raise SystemExit(f"{chapter.notebook} is not under {root}.")
        jobs.append(Job(len(jobs), chapter.letter, framework, seed, chapter.notebook))
    return jobs


def detect_gpus() -> list[str]:
    """The GPUs of this node: CUDA_VISIBLE_DEVICES if set, else one per line of nvidia-smi -L."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if visible:
        return [g for g in visible.split(",") if g.strip()]
    if not shutil.which("nvidia-smi"):
        return []
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return [str(i) for i, line in enumerate(listing.stdout.splitlines()) if line.startswith("GPU")]


def inject_seed(notebook: dict, seed: int) -> dict:
    """Add ``SEED = seed`` in a cell tagged injected-parameters after the parameters cell."""
    cells = notebook["cells"]
    tagged = [
        i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise ValueError(f"the notebook has {len(tagged)} cells tagged 'parameters', not one.")
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "injected-parameters",
        "metadata": {"tags": ["injected-parameters"]},
        "outputs": [],
        "source": f"# Parameters injected by tools/run_chapters.py\nSEED = {int(seed)}\n",
    }
    cells.insert(tagged[0] + 1, cell)
    return notebook


def execute(source: Path, target: Path, seed: int, timeout: int) -> int:
    """Execute one notebook (in this process's environment) and write it with its outputs."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    class ThisPython(KernelSpecManager):
        """The kernel runs this interpreter, whatever kernels are installed elsewhere."""

        def get_kernel_spec(self, kernel_name):
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="Python 3", language="python")

    notebook = nbformat.reads(
        json.dumps(inject_seed(json.loads(source.read_text(encoding="utf-8")), seed)),
        as_version=4,
    )
    client = NotebookClient(
        notebook,
        km=KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython()),
        timeout=timeout,
        resources={"metadata": {"path": str(source.parent)}},
    )
    status = 0
    try:
        client.execute()
    except CellExecutionError as error:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # IPython's colours
        lines = [line for line in text.splitlines() if line.strip()]
        print(f"{source.name}: {lines[-1] if lines else error}", file=sys.stderr)
        status = 1
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return status


def run_job(job: Job, gpu: str | None, args, out: Path) -> dict:
    """Run ``job`` in a child process on ``gpu`` (None: leave the devices alone)."""
    claims = out / "claims" / job.name
    shutil.rmtree(claims, ignore_errors=True)
    env = {
        **os.environ,
        "A3NET_PROFILE": args.profile,
        "A3NET_FRAMEWORK": job.framework,
        "A3NET_STRICT_CHECKS": "1",
        "A3NET_CLAIMS_DIR": str(claims),
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
    }
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    if args.threads:
        env["A3NET_THREADS"] = str(args.threads)
    log = out / "logs" / f"{job.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--execute",
        str(args.root / job.notebook),
        str(out / "notebooks" / f"{job.name}.ipynb"),
        "--seed",
        str(job.seed),
        "--timeout",
        str(args.timeout),
    ]
    start = time.monotonic()
    with log.open("w") as handle:
        code = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT).returncode
    seconds = round(time.monotonic() - start, 1)
    ledgers = sorted(claims.glob("*.json"))
    result = "ok" if code == 0 else "failed"
    if code == 0 and not ledgers:
        result = "failed: no claims ledger written"
    elif code:
        tail = [line for line in log.read_text().splitlines() if line.strip()][-1:]
        result = f"failed: {tail[0] if tail else f'exit status {code}'}"
    record = {**asdict(job), "job": job.name, "gpu": gpu, "seconds": seconds, "result": result}
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    (out / "jobs" / f"{job.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def run_all(jobs: list[Job], slots: list[str | None], args, out: Path) -> list[dict]:
    """Each slot (a GPU, or None for a CPU slot) takes the next job from the queue."""
    todo: queue.Queue[Job] = queue.Queue()
    for job in jobs:
        todo.put(job)
    records, lock = [], threading.Lock()

    def worker(gpu):
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            where = f"GPU {gpu}" if gpu is not None else "CPU"
            print(f"start  {job.name:22s} on {where}", flush=True)
            record = run_job(job, gpu, args, out)
            print(
                f"done   {job.name:22s} {record['seconds']:8.1f} s  {record['result']}", flush=True
            )
            with lock:
                records.append(record)

    threads = [threading.Thread(target=worker, args=(gpu,)) for gpu in slots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(records, key=lambda r: r["index"])


def collect(out: Path, profile: str) -> dict:
    """Every job's record and ledger under ``out`` in one collection, written to claims.json."""
    from a3net.claims import read_claims

    jobs = [json.loads(p.read_text()) for p in sorted((out / "jobs").glob("*.json"))]
    ledgers = []
    for job in sorted(jobs, key=lambda j: j["index"]):
        for record in read_claims(out / "claims" / job["job"]):
            ledgers.append({**record, "job": job["job"], "gpu": job["gpu"]})
    collection = {
        "schema": SCHEMA,
        "profile": profile,
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "jobs": jobs,
        "ledgers": ledgers,
        "claims": sum(len(led["claims"]) for led in ledgers),
        "failed_claims": sum(c["status"] == "fail" for led in ledgers for c in led["claims"]),
    }
    (out / "claims.json").write_text(json.dumps(collection, indent=1) + "\n")
    return collection


SLURM = """#!/bin/bash
# SLURM job array written by tools/run_chapters.py: {n} jobs ({profile} profile), one GPU each.
# Submit from the repository root: sbatch {script}; when all have ended, collect the ledgers:
#   {python} tools/run_chapters.py --profile {profile} --out {out} --collect
#SBATCH --job-name=a3net-{profile}
#SBATCH --array=0-{last}
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={hours}:00:00
#SBATCH --output={out}/logs/slurm-%A_%a.out
set -euo pipefail
cd {root}
{python} tools/run_chapters.py --profile {profile} --out {out} {selection} \\
    --task "$SLURM_ARRAY_TASK_ID"
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/run_chapters.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--chapters", nargs="+", metavar="L", help="letters (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="default: 0")
    parser.add_argument("--gpus", help="'all', or ids such as 0,1,2,3: one job per GPU")
    parser.add_argument("--jobs", type=int, help="jobs at a time without GPUs (default 1)")
    parser.add_argument("--threads", type=int, help="A3NET_THREADS of each job")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    parser.add_argument("--out", type=Path, help="default: _build/runs/<profile>")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--slurm", type=Path, metavar="FILE", help="write a SLURM array script")
    parser.add_argument("--task", type=int, help="run only job TASK (a SLURM array task)")
    parser.add_argument("--collect", action="store_true", help="only collect the ledgers")
    parser.add_argument("--execute", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute:
        return execute(*args.execute, seed=args.seed, timeout=args.timeout)
    out = (args.out or ROOT / "_build" / "runs" / args.profile).resolve()
    jobs = plan(args.chapters, args.frameworks, args.seeds, args.root)
    if args.slurm:
        selection = " ".join(
            [
                f"--frameworks {' '.join(args.frameworks)}",
                f"--seeds {' '.join(map(str, args.seeds))}",
            ]
            + ([f"--chapters {' '.join(args.chapters)}"] if args.chapters else [])
        )
        args.slurm.write_text(
            SLURM.format(
                n=len(jobs),
                last=len(jobs) - 1,
                profile=args.profile,
                script=args.slurm,
                python=sys.executable,
                out=out,
                root=args.root.resolve(),
                selection=selection,
                cpus=args.threads or 8,
                hours=max(1, -(-args.timeout // 3600)),
            )
        )
        (out / "logs").mkdir(parents=True, exist_ok=True)  # SLURM does not create it
        print(f"wrote {args.slurm}: {len(jobs)} array tasks; submit with sbatch {args.slurm}")
        return 0
    if not args.collect:
        if args.task is not None:
            if not 0 <= args.task < len(jobs):
                parser.error(f"--task {args.task} is not in 0..{len(jobs) - 1}.")
            record = run_job(jobs[args.task], None, args, out)  # SLURM gives the task its GPU
            print(f"{record['job']}: {record['seconds']} s, {record['result']}")
            return int(record["result"] != "ok")
        if args.gpus:
            gpus = detect_gpus() if args.gpus == "all" else args.gpus.split(",")
            if not gpus:
                parser.error("--gpus all: no GPU found (nvidia-smi -L lists none).")
            slots = [g.strip() for g in gpus]
        else:
            slots = [None] * max(1, args.jobs or 1)
            # the cores shared out between the jobs (oversubscribed threads slow training)
            args.threads = args.threads or max(1, (os.cpu_count() or 1) // len(slots))
        where = f"GPUs {','.join(slots)}" if args.gpus else f"{len(slots)} CPU slot(s)"
        print(f"{len(jobs)} jobs ({args.profile} profile) on {where}; output in {out}")
        start = time.monotonic()
        run_all(jobs, slots, args, out)
        print(f"all jobs: {time.monotonic() - start:.1f} s of wall time")
    collection = collect(out, args.profile)
    bad = [j for j in collection["jobs"] if j["result"] != "ok"]
    missing = {j.name for j in jobs} - {j["job"] for j in collection["jobs"]}
    print(
        f"{len(collection['jobs'])} jobs, {len(bad)} failed; {len(collection['ledgers'])} ledgers, "
        f"{collection['claims']} claims, {collection['failed_claims']} failed: "
        f"{out / 'claims.json'}"
    )
    for job in bad:
        print(f"  {job['job']}: {job['result']}")
    if missing:
        print(f"  not run: {', '.join(sorted(missing))}")
    return int(bool(bad or missing))


if __name__ == "__main__":
    sys.exit(main())
