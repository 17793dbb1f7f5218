"""Ctrl-C during the first ``fit`` leaves the process able to train (issue 25), in both frameworks.

Each framework runs in a fresh subprocess, as a kernel would:

1. an interrupt arrives while the first model is built and trained, at the moment torch starts
   importing its compiler modules (``torch._dynamo``: what the first optimiser step imports
   lazily; an import hook sends it, so the timing is exact). It used to leave a partly
   initialised ``torch._dynamo`` behind, and every later ``fit`` failed;
2. an interrupt (``_thread.interrupt_main``, what Ctrl-C in a kernel amounts to) arrives from a
   timer thread one second into a long first ``fit`` of a new model;

after each, the model must be in evaluation mode (``model.training`` False) and a second ``fit``
in the same process must train.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import _thread, importlib.abc, json, sys, threading
import numpy as np
import a3net

framework = sys.argv[1]
report = {}
rng = np.random.default_rng(0)
x = rng.random((64, 1, 28, 28)).astype(np.float32)
y = x.mean(axis=(1, 2, 3))[:, None].astype(np.float32)


class InterruptOnImport(importlib.abc.MetaPathFinder):
    # Ctrl-C at the moment `name` starts to be imported, once
    def __init__(self, name):
        self.name, self.fired = name, False

    def find_spec(self, fullname, path, target=None):
        if fullname == self.name and not self.fired:
            self.fired = True
            _thread.interrupt_main()
        return None


models = a3net.framework(framework)
hook = InterruptOnImport("torch._dynamo")
if framework == "torch" and "torch._dynamo" not in sys.modules:
    sys.meta_path.insert(0, hook)
model = None
try:
    for _ in range(3):  # the hook's interrupt is due within a few bytecodes of the import
        model = models.RingRegressorCNN(n_outputs=1, channels=(4, 8), hidden=16)
        models.fit(model, x, y, epochs=2, progress=False)
    report["import_interrupted"] = False
except KeyboardInterrupt:
    report["import_interrupted"] = hook.fired
sys.meta_path[:] = [f for f in sys.meta_path if f is not hook]
report["import_hook_fired"] = hook.fired
model = models.RingRegressorCNN(n_outputs=1, channels=(4, 8), hidden=16)
history = models.fit(model, x, y, epochs=3, progress=False)
report["after_import_interrupt"] = history["loss"]

model = models.RingRegressorCNN(n_outputs=1, channels=(4, 8), hidden=16)
timer = threading.Timer(1.0, _thread.interrupt_main)
timer.start()
try:
    models.fit(model, x, y, epochs=100000, batch_size=8, progress=False)
    report["fit_interrupted"] = False
except KeyboardInterrupt:
    report["fit_interrupted"] = True
timer.cancel()
report["training_after_interrupt"] = bool(model.training)
history = models.fit(model, x, y, epochs=3, progress=False)
report["after_fit_interrupt"] = history["loss"]
report["training_after_fit"] = bool(model.training)
print("REPORT " + json.dumps(report))
"""


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_second_fit_trains_after_ctrl_c_in_the_first(framework):
    env = dict(os.environ, A3NET_THREADS="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, framework],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])
    if framework == "torch":
        assert report["import_hook_fired"] and report["import_interrupted"], report
    assert report["fit_interrupted"], report
    assert report["training_after_interrupt"] is False, report
    assert report["training_after_fit"] is False, report
    for key in ("after_import_interrupt", "after_fit_interrupt"):
        losses = report[key]
        assert len(losses) == 3 and all(v == v and v < 1e3 for v in losses), report
    # a fresh model learns (the interrupted one had already trained for a second)
    assert report["after_import_interrupt"][-1] < report["after_import_interrupt"][0], report
