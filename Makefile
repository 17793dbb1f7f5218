# a3net: the book, the tests and the benchmarks. Every target bootstraps .venv from the pinned
# files (requirements.txt + constraints.txt) when it is missing or older than them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.a3net-installed
# The chapter notebooks, in order, from the registry a3net/chapters.py (standard library only).
CHAPTERS := $(shell $(PYTHON) a3net/chapters.py --notebooks)

export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
# The real-data cache the chapters read (A3NET_DATA); `make data` fills it from REALDATA, a local
# folder of the registered files, when that folder exists (CI keeps one beside the repository).
export A3NET_DATA ?= $(CURDIR)/_build/data
REALDATA ?= $(CURDIR)/../shared/realdata

.PHONY: all venv data book book-strict test lint unit notebooks student student-run bench clean \
	print-chapters runs

all: test

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (a3net)" >/dev/null
	touch $(STAMP)

## data: fill the real-data cache A3NET_DATA from REALDATA when it exists (no network needed);
## without it, the chapters' real-data sections say the data are absent and skip.
data: $(STAMP)
	@if [ -d "$(REALDATA)" ]; then $(PY) -m a3net.data.fetch --fill-from "$(REALDATA)"; \
	else echo "No $(REALDATA): real-data sections will be skipped."; fi

## book: the rendered course on the `default` profile, in _build/html (offline).
book: $(STAMP) data
	A3NET_PROFILE=$${A3NET_PROFILE:-default} $(VENV)/bin/jupyter-book build .
	@echo "Book: _build/html/index.html"

## test: lint, unit tests, the student copies run (smoke), a strict book build (smoke), every
## chapter through nbval in both frameworks.
test: lint unit data student-run book-strict notebooks

## lint: ruff's checks and its format check over the package, the tests and the notebooks, no
## committed outputs in the notebooks, every chapter in all its places (a3net/chapters.py --check):
## the hooks of .pre-commit-config.yaml, run directly.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/check_notebook_outputs.py book
	$(PY) a3net/chapters.py --check

unit: $(STAMP)
	$(PY) -m pytest tests -q

book-strict: $(STAMP)
	A3NET_STRICT_CHECKS=1 A3NET_PROFILE=smoke $(VENV)/bin/jupyter-book build . --warningiserror --keep-going --path-output _build/smoke

notebooks: $(STAMP)
	@test -n "$(CHAPTERS)" || { echo "no chapters: $(PYTHON) a3net/chapters.py --notebooks failed"; exit 1; }
	A3NET_STRICT_CHECKS=1 A3NET_PROFILE=smoke A3NET_FRAMEWORK=torch $(PY) -m pytest --nbval-lax $(CHAPTERS) -q
	A3NET_STRICT_CHECKS=1 A3NET_PROFILE=smoke A3NET_FRAMEWORK=keras $(PY) -m pytest --nbval-lax $(CHAPTERS) -q

## runs: every chapter of RUN_PROFILE (default full) in both frameworks, once per seed of SEEDS,
## as separate jobs: one per GPU (GPUS=all, or GPUS=0,1,...), or JOBS at a time on a CPU
## (make runs RUN_PROFILE=smoke JOBS=2); the claims ledgers collected in
## _build/runs/<profile>/claims.json (tools/run_chapters.py; --slurm writes a SLURM array script).
RUN_PROFILE ?= full
GPUS ?= all
SEEDS ?= 0
runs: $(STAMP)
	$(PY) tools/run_chapters.py --profile $(RUN_PROFILE) --seeds $(SEEDS) \
		$(if $(JOBS),--jobs $(JOBS),--gpus $(GPUS))

## student: student copies of every chapter (solutions stubbed, outputs cleared) in student/.
student: $(STAMP)
	$(PY) -m a3net.exercises.student book --out student

## student-run: the student copies executed (smoke, PyTorch) in _build/student; a cell may stop
## only with NotImplementedError (an unwritten stub), any other error fails.
student-run: $(STAMP)
	A3NET_PROFILE=smoke A3NET_FRAMEWORK=torch $(PY) -m a3net.exercises.student book --out _build/student --run

## bench: timings and accuracies, written to benchmarks/results/.
bench: $(STAMP)
	$(PY) benchmarks/run.py --out benchmarks/results

## print-chapters: the chapter notebooks nbval runs, from a3net/chapters.py.
print-chapters:
	@echo $(CHAPTERS)

clean:
	rm -rf _build student .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
