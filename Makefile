# marketlift: two commands for a newcomer.
#   make demo   install into .venv/ and run the main job on the embedded default
#   make test   install into .venv/ (plus test services and Chromium) and run every check
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest jstest jvm jvmtest services browser airflow bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/marketlift demo --data ./marketlift-data

services:
	bash scripts/ensure-services.sh

browser:
	bash scripts/ensure-browser.sh

# Apache Airflow in its own .venv-airflow (its pins clash with ours), once: a stamp file holds it
airflow:
	PYTHON=$(PYTHON) bash scripts/ensure-airflow.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services browser jvm airflow
	$(BIN)/python -m pytest -q

jstest:
	node --test sdk/js/test/

JUNIT := /usr/share/java/junit-platform-console-standalone.jar

jvm:
	bash scripts/ensure-jvm.sh
	bash scripts/build-jvm.sh >/dev/null

jvmtest: jvm
	java -Dmarketlift.root=$(CURDIR) -jar $(JUNIT) --disable-banner --details=summary \
	  --class-path sdk/jvm/build/classes:sdk/jvm/build/test-classes --select-package io.marketlift.sdk

test: lint typecheck jstest jvmtest pytest

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) .venv-airflow .mypy_cache .ruff_cache .pytest_cache
