# textclf: `make help` lists the targets. Every target sets up .venv itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-install
ARGS ?=
DATA_ARGS ?=

# The public corpora: $TEXTCLF_CORPORA_DIR, else ../shared/corpora when it sits beside the checkout,
# else data/raw/corpora (downloaded by `make data` when missing).
ifeq ($(origin TEXTCLF_CORPORA_DIR),undefined)
ifneq ($(wildcard ../shared/corpora/wcxb),)
export TEXTCLF_CORPORA_DIR := $(abspath ../shared/corpora)
endif
endif

# These machines have no internet: keep MLflow and Hugging Face from calling home.
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export HF_UPDATE_DOWNLOAD_COUNTS := 0
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install data prepared train cv eval test lint format ui bench clean clean-mlflow

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Pass Hydra overrides with ARGS, e.g. make train ARGS=\"model=logreg\""

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	@touch $@

install: $(STAMP) ## Create .venv and install textclf with its dev extras (once)

data: $(STAMP) ## Build the line-level datasets under data/processed (idempotent)
	$(PY) -m textclf.prepare $(ARGS)

# What train and cv need first: the datasets (built if needed) and the MLflow store, created once
# here because parallel sweep jobs migrating it at once would corrupt it.
prepared: $(STAMP)
	$(PY) -m textclf.prepare $(DATA_ARGS)
	@$(PY) -m textclf.tracking init

train: prepared ## Build the datasets if needed, then train the models, tracked in MLflow
	$(PY) -m textclf.train $(ARGS)

cv: prepared ## Cross-validate the boilerplate model on WCXB dev (folds grouped by domain), tracked in MLflow
	$(PY) -m textclf.crossval $(ARGS)

eval: $(STAMP) ## Evaluate the champion models on every test split
	$(PY) -m textclf.evaluate $(ARGS)

bench: $(STAMP) ## Measure prediction throughput against trafilatura, readability and jusText
	$(PY) -m textclf.bench $(ARGS)

test: lint ## Run lint and the test suite
	$(PY) -m pytest $(ARGS)

lint: $(STAMP) ## Lint, check formatting and type-check the package
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

format: $(STAMP) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix src tests
	$(VENV)/bin/ruff format src tests

ui: $(STAMP) ## Serve the MLflow UI for the project's store on 127.0.0.1
	$(PY) -m textclf.tracking ui

clean: ## Remove built data, Hydra outputs and the virtual environment (keeps MLflow runs and models)
	rm -rf data/interim data/processed outputs multirun $(VENV)

clean-mlflow: ## Remove the MLflow store: every run and registered model (asks first)
	@printf "Delete mlflow.db and mlartifacts/ (every run and registered model)? [y/N] "; \
	read answer; case "$$answer" in [yY]|[yY][eE][sS]) rm -rf mlflow.db mlartifacts;; *) echo "kept";; esac
