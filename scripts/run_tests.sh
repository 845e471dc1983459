#!/usr/bin/env bash
# Set up (if needed) and run the test suite: unit tests, then the tiny end-to-end recipe.
#
# Usage: bash scripts/run_tests.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 NLTK_DATA="$PWD/tests/.nltk_data"
.venv/bin/python -m pytest -q -m "not slow" "$@" tests
.venv/bin/python -m pytest -q -m slow tests/recipes
