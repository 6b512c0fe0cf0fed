# transinv: the two commands a newcomer needs.
#   make reproduce   set up .venv, run the pipeline on the embedded default, write the report
#   make test        set up .venv, run the lints and the test suite

PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
CORES ?= all
# Rules call the `transinv` command: put the venv first on PATH for every job.
RUN := PATH="$(BIN):$$PATH"

.PHONY: reproduce test lint install lock report benchmark benchmark-run

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml envs/requirements.lock envs/requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r envs/requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -r envs/requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

reproduce: install
	$(RUN) $(BIN)/transinv check-captions
	$(RUN) $(BIN)/snakemake --cores $(CORES)
	$(RUN) $(BIN)/snakemake --report results/report.html
	@echo "Done: results/paper.pdf (the paper-shaped report), tables in results/tables, figures in results/figures, workflow report results/report.html"

report: install
	$(RUN) $(BIN)/transinv check-captions
	$(RUN) $(BIN)/snakemake --report results/report.html

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow
	$(RUN) $(BIN)/snakemake --lint --cores 1

test: lint
	$(RUN) $(BIN)/python -m pytest

# Timing figures into docs/BENCHMARKS.md (each script owns one section).
benchmark: install
	$(RUN) $(BIN)/python benchmarks/red_green_training.py
	$(RUN) $(BIN)/python benchmarks/red_green_vs_baseline.py
	$(RUN) $(BIN)/python benchmarks/red_green_kernels.py
	$(RUN) $(BIN)/python benchmarks/models_throughput.py
	$(RUN) $(BIN)/python benchmarks/plan_paper.py
	$(RUN) $(BIN)/python benchmarks/loader_throughput.py
	$(RUN) $(BIN)/python benchmarks/shift_precision.py
	$(RUN) $(BIN)/python benchmarks/hardnet_throughput.py
	$(RUN) $(BIN)/python benchmarks/resnet3d_throughput.py

# After `make reproduce`: its wall time, idle core-time and where the job time went.
benchmark-run: install
	$(RUN) $(BIN)/python benchmarks/default_run.py --run-dir .

lock: install
	head -n 3 envs/requirements.lock > envs/requirements.lock.new
	$(BIN)/python -m pip freeze --exclude transinv --exclude mlxtend >> envs/requirements.lock.new
	mv envs/requirements.lock.new envs/requirements.lock
	$(BIN)/python envs/conda_env.py
