#!/usr/bin/env bash
# Set up and run the suite's own tests: unit, twin, plugin, worlds, and the lab on a real engine.
# Starts a Docker engine and a one-node swarm for the lab when none runs, and stops what it started.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

lab_ready=0
if [ "${GHOSTGATES_SKIP_LAB:-0}" != 1 ]; then
    if bash scripts/swarm-setup.sh; then
        lab_ready=1
        trap 'bash scripts/swarm-teardown.sh || true' EXIT
    else
        echo "[test] the lab engine could not be set up: the lab tests will be reported as skipped" >&2
    fi
fi

# Everything but the lab runs on both cores; the lab shares one engine, so it runs serially.
.venv/bin/python -m pytest tests -n 2 -m "not lab" -q -p no:cacheprovider "$@"
code=$?
if [ "$lab_ready" = 1 ]; then
    .venv/bin/python -m pytest tests/lab -m lab -q -p no:cacheprovider "$@"
    lab=$?
    [ "$lab" -ne 0 ] && [ "$lab" -ne 5 ] && code=$lab
fi
[ "$code" -eq 5 ] && code=0
exit "$code"
