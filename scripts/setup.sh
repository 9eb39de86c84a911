#!/usr/bin/env bash
# Set up ghost-gates on a fresh Debian machine: Python venv in .venv with the suite's dependencies.
# Idempotent; says what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
say() { printf '[setup] %s\n' "$*"; }

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    say "installing python3 (3.11 or newer) with apt"
    apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
if ! command -v ssh-keygen >/dev/null 2>&1; then
    # Signed adversary records (gates.md, adversary_signers) are made and checked by ssh-keygen -Y.
    say "installing openssh-client (ssh-keygen) with apt"
    apt-get update -qq && apt-get install -y -qq openssh-client >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
        say "installing python3-venv with apt"
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv .venv
    fi
    say "created .venv"
fi
if ! .venv/bin/python -c 'import pytest, xdist, pytest_html, testinfra, httpx, docker, paramiko, yaml, werkzeug, jsonschema, markdown_it' 2>/dev/null; then
    say "installing the suite's dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e '.[dev]'
fi
say "ready: $(.venv/bin/python --version), pytest $(.venv/bin/python -c 'import pytest; print(pytest.__version__)')"
