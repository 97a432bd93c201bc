# cookiecutter-ml-lifecycle: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := build/demo
export DVC_NO_ANALYTICS := 1
export ITERATIVE_DO_NOT_TRACK := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv demo test bench clean

# The template's tools, and the library (editable, with its test extra) for its own tests.
$(BIN)/cookiecutter: requirements-dev.txt lib/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.txt \
		-e 'lib[pipeline,serve,loadtest,sql,dask,mlflow,test]'
	touch $@

venv: $(BIN)/cookiecutter

demo: venv  ## render with defaults, install the repo, run its pipeline, show the evaluation
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	@project=$$(ls -d $(DEMO_DIR)/*/) && \
	echo "Rendered into $$project" && \
	$(MAKE) -C $$project setup repro PYTHON=$(PYTHON) && \
	echo && cat $$project/reports/model_card.md && \
	echo && echo "Demo repository: $$project (cd there and 'source .venv/bin/activate')"

# The renders' tests on two workers (pytest-xdist): their stages are one-core processes
# (imports, DVC, GX); the tests that share a render stay on one worker (tests/conftest.py).
test: venv  ## the library's tests (once), then renders of the template running what they generate
	cd lib && ../$(BIN)/pytest --durations=10
	$(BIN)/pytest tests -n 2 --durations=15

bench: venv  ## benchmarks/config.yaml sizes (ROWS=10000,100000 REPEATS=3 ENGINE=dask DASK_WORKERS=8 DASK_MEMORY=1GiB NAME=report-x override); report in benchmarks/results/
	$(BIN)/python benchmarks/run.py $(if $(ROWS),--rows $(ROWS)) $(if $(REPEATS),--repeats $(REPEATS)) $(if $(ENGINE),--engine $(ENGINE)) \
		$(if $(DASK_WORKERS),--dask-workers $(DASK_WORKERS)) $(if $(DASK_MEMORY),--dask-memory $(DASK_MEMORY)) $(if $(NAME),--name $(NAME))

clean:
	rm -rf $(VENV) build .cache
