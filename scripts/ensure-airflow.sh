#!/usr/bin/env bash
# Create .venv-airflow with Apache Airflow (its pins clash with ours, so it has its own
# virtual environment) once; the stamp names the version, so nothing is reinstalled while it
# holds. The DAG's tasks call the marketlift command of the main environment, so this one
# needs Airflow only.
set -eu
VENV="${AIRFLOW_VENV:-.venv-airflow}"
VERSION="${AIRFLOW_VERSION:-3.3.2}"
STAMP="$VENV/.installed-$VERSION"
if [ -f "$STAMP" ]; then exit 0; fi
PYTHON="${PYTHON:-python3}"
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip 2>/dev/null
"$VENV/bin/python" -m pip install --quiet "apache-airflow==$VERSION" 2>/dev/null
touch "$STAMP"
