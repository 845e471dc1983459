#!/usr/bin/env bash
# Set up espnet2_jstar on a fresh Debian/Ubuntu machine: system packages, a virtual
# environment in .venv, and the pinned stack (torch 2.9.1 + torchaudio 2.9.1, espnet 202511).
#
# Usage: bash scripts/setup.sh          (idempotent: re-running only checks the stack)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "$(date '+%H:%M:%S') setup: $*" >&2; }

sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
if command -v apt-get >/dev/null; then
    log "system packages (espeak-ng, flite, sox, libsndfile1)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq espeak-ng flite sox libsndfile1 >/dev/null
else
    log "no apt-get: install espeak-ng, flite, sox and libsndfile yourself"
fi

py=${PYTHON:-python3.11}; command -v "$py" >/dev/null || py=python3
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($py --version)"
    "$py" -m venv .venv
fi
# pip >= 25.3 refuses espnet 202511's dependency ci_sdr (it declares a direct-URL extra).
.venv/bin/python -m pip install -q 'pip==24.3.1'
if ! .venv/bin/python scripts/check_stack.py >/dev/null 2>&1; then
    # PyPI's x86_64 torch is the CUDA build: about 7.6 GB in .venv, and pip first downloads
    # about 3 GB of wheels into TMPDIR. A full disk otherwise shows only as pip's OSError.
    need_gb=11 pip_tmp=${TMPDIR:-/tmp}
    free_kb=$(df -Pk .venv "$pip_tmp" 2>/dev/null | awk 'NR > 1 {print $4}' | sort -n | head -1) || true
    if [ -n "$free_kb" ] && [ "$free_kb" -lt $((need_gb * 1024 * 1024)) ]; then
        log "WARNING: $((free_kb / 1024)) MB free (in .venv or $pip_tmp);" \
            "installing the stack needs about $need_gb GB"
    fi
    log "installing torch 2.9.1 + torchaudio 2.9.1 (a matching pair), then the project"
    if ! .venv/bin/python -m pip install -q torch==2.9.1 torchaudio==2.9.1 \
        || ! .venv/bin/python -m pip install -q -e '.[test]'; then
        log "pip failed; free space now:"; df -h .venv "$pip_tmp" >&2
        exit 1
    fi
fi
.venv/bin/python scripts/check_stack.py
