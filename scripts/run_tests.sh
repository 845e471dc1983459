#!/usr/bin/env bash
# Set up (if needed) and run the test suite: unit tests, then the slow ones (the tiny
# end-to-end recipe, the ESPnet ST smoke test), each run listing its 15 slowest tests.
# The unit tests run in JSTAR_TEST_WORKERS pytest-xdist workers [2], each test file whole on
# one worker (module fixtures are built once); each test is single-threaded (OMP_NUM_THREADS=1).
#
# Usage: bash scripts/run_tests.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 NLTK_DATA="$PWD/tests/.nltk_data"
.venv/bin/python -m pytest -q --durations=15 -n "${JSTAR_TEST_WORKERS:-2}" --dist loadfile \
    -m "not slow" "$@" tests
.venv/bin/python -m pytest -q --durations=15 -m slow tests
