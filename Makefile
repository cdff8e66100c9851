# labkit: the two commands of the README are `make lab` and `make test`; both set themselves up from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
PORT ?= 8888
PRESENT_PORT ?= 8866
TOKEN ?=
CLASSROOM_IP ?= 127.0.0.1
CLASSROOM_PORT ?= 8000
ROSTER ?= classroom/roster.example.csv
NPM := npm install --prefix classroom --no-package-lock --no-audit --no-fund --loglevel=error
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab present classroom classroom-root classroom-proxy test notebooks bench debian-packages test-debian-packages clean help

help:
	@echo "make lab        set up and open JupyterLab on notebooks/ (http://127.0.0.1:$(PORT)/lab)"
	@echo "make present    the instructor's certificate clinic as a Voila dashboard (http://127.0.0.1:$(PRESENT_PORT)/)"
	@echo "make classroom  JupyterHub for a class, accounts from ROSTER (as root; http://$(CLASSROOM_IP):$(CLASSROOM_PORT)/)"
	@echo "make test       set up and run every check (ruff, import contracts, unit tests, nbval, browser and Binder checks)"
	@echo "make notebooks  re-execute every notebook in place (for authors)"
	@echo "make bench      run the benchmarks and print their tables"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Runtime install (make lab) and test install (make test) are stamped so a second run starts at once.
$(VENV)/.lab-stamp: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e .
	@touch $@

$(VENV)/.test-stamp: pyproject.toml constraints.txt classroom/package.json | $(PY)
	$(PIP) -e '.[test,classroom]'
	@$(MAKE) --no-print-directory classroom-proxy
	@touch $@ $(VENV)/.lab-stamp $(VENV)/.classroom-stamp

# The classroom hub: JupyterHub and its parts from PyPI (the classroom extra), the proxy from npm.
$(VENV)/.classroom-stamp: pyproject.toml constraints.txt classroom/package.json | $(PY)
	$(PIP) -e '.[classroom]'
	@$(MAKE) --no-print-directory classroom-proxy
	@touch $@ $(VENV)/.lab-stamp

classroom-root:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "labkit classroom: run as root (sudo make classroom): each trainee becomes a system user (useradd)" >&2; \
	  exit 2; fi

classroom-proxy:
	@if command -v npm >/dev/null; then $(NPM); \
	else echo "labkit: npm is missing: the classroom's proxy (configurable-http-proxy) is not installed" >&2; fi

debian-packages:
	@bash scripts/debian-packages.sh binder/apt.txt

# The tests also drive Debian's Chromium (tests/apt.txt).
test-debian-packages:
	@bash scripts/debian-packages.sh binder/apt.txt tests/apt.txt

lab: $(VENV)/.lab-stamp
	@echo "labkit: JupyterLab on http://127.0.0.1:$(PORT)/lab/tree/00-welcome.ipynb (the token is in the URL below)"
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.port_retries=0 \
		--ServerApp.root_dir=notebooks $(ROOT_FLAG) $(if $(TOKEN),--IdentityProvider.token=$(TOKEN))

# The instructor's dashboard: only the notebook's outputs and widgets, served on 127.0.0.1. Its working folder is the
# chapter notebooks' one (notebooks/lab-work), so its Reset button clears what the notebooks made.
present: $(VENV)/.lab-stamp
	@echo "labkit: certificate clinic on http://127.0.0.1:$(PRESENT_PORT)/"
	LABKIT_WORKDIR=$${LABKIT_WORKDIR:-$(CURDIR)/notebooks/lab-work} $(VENV)/bin/voila notebooks/instructor/certificate-clinic.ipynb --no-browser --Voila.ip=127.0.0.1 \
		--port=$(PRESENT_PORT) --Voila.port_retries=0

# A real JupyterHub for a class on this machine (see the README, "A class on JupyterHub"). Root only: each trainee
# is a system user. CLASSROOM_IP=0.0.0.0 CLASSROOM_SSL_CERT=... CLASSROOM_SSL_KEY=... serve a classroom network.
classroom: classroom-root $(VENV)/.classroom-stamp debian-packages
	@echo "labkit: classroom hub on http://$(CLASSROOM_IP):$(CLASSROOM_PORT)/ (roster $(ROSTER))"
	CLASSROOM_IP=$(CLASSROOM_IP) CLASSROOM_PORT=$(CLASSROOM_PORT) ROSTER=$(ROSTER) \
		$(VENV)/bin/jupyterhub -f classroom/jupyterhub_config.py

test: $(VENV)/.test-stamp test-debian-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg tests notebooks

notebooks: $(VENV)/.test-stamp debian-packages
	$(PY) scripts/run_notebooks.py notebooks

bench: $(VENV)/.test-stamp debian-packages
	$(PY) benchmarks/notebooks.py
	$(PY) benchmarks/classroom.py
	$(PY) benchmarks/ca_issue.py
	$(PY) benchmarks/crl_scale.py
	$(PY) benchmarks/key_sizes.py
	$(PY) benchmarks/failure_latency.py
	$(PY) benchmarks/cli.py
	$(PY) benchmarks/servers.py

clean:
	rm -rf $(VENV) notebooks/lab-work lab-work .pytest_cache classroom/node_modules
