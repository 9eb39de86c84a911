#!/usr/bin/env bash
# Set up and run the suite's own tests: unit, twin, plugin, worlds, and the lab on a real engine.
# Starts a Docker engine and a one-node swarm for the lab when none runs, and stops what it started.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# The HTML report is looked at in a real browser (tests/plugin/test_operator.py): Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
    echo "[test] installing chromium with apt (for the HTML report test)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "[test] chromium could not be installed: the browser test will be reported as skipped" >&2
fi

# Every gate run the tests start is a fresh interpreter that imports the suite: with bytecode writing
# off (PYTHONDONTWRITEBYTECODE, often set to keep __pycache__ out of a checkout) each one compiles
# every module again, and pytest rewrites every plugin's asserts again: about a fifth of the run's
# CPU. The bytecode then goes to a directory of this run's own, outside the checkout, removed at exit.
pycache=
if [ -n "${PYTHONDONTWRITEBYTECODE:-}" ] && [ -z "${PYTHONPYCACHEPREFIX:-}" ]; then
    pycache=$(mktemp -d "${TMPDIR:-/tmp}/ghostgates-pycache.XXXXXX") && {
        unset PYTHONDONTWRITEBYTECODE
        export PYTHONPYCACHEPREFIX=$pycache
    }
fi
lab_ready=0
cleanup() {
    [ "$lab_ready" = 1 ] && { bash scripts/swarm-teardown.sh || true; }
    [ -n "$pycache" ] && rm -rf "$pycache"
}
trap cleanup EXIT
if [ "${GHOSTGATES_SKIP_LAB:-0}" != 1 ]; then
    if bash scripts/swarm-setup.sh; then
        lab_ready=1
    else
        echo "[test] the lab engine could not be set up: the lab tests will be reported as skipped" >&2
    fi
fi

# The type check (pyproject.toml [tool.mypy]: strict on the deciding code): a type error fails the run.
if ! .venv/bin/python -c 'import mypy' 2>/dev/null; then
    echo "[test] installing the dev tools (mypy) into .venv" >&2
    .venv/bin/python -m pip install -q -e '.[dev]' || echo "[test] mypy could not be installed" >&2
fi
# mypy runs beside the tests (its output shown once they end): it needs a core for seconds, the tests
# for minutes, and nothing it checks changes while they run.
mkdir -p reports
rm -f reports/tests.xml reports/lab.xml reports/lab.out reports/mypy.out
.venv/bin/python -m mypy >reports/mypy.out 2>&1 &
mypy_pid=$!

# Everything but the lab runs on three xdist workers (GHOSTGATES_TEST_WORKERS) for CI's two cores: a
# fifth of those tests' time is spent waiting, not computing (client timeouts and retries against a
# slowed twin, a bridge's build clock, kill -9 timing), and with two workers a core sat idle meanwhile
# (3:40 on two workers, 3:10 on three, on an idle two-core machine). The lab shares one engine, so
# its tests run one after another, beside the rest: they spend their time waiting on the engine
# (tasks starting, health checks, update monitors), not on a core. Its output is shown once it ends.
lab_pid=
if [ "$lab_ready" = 1 ]; then
    .venv/bin/python -m pytest tests/lab -m lab -q -p no:cacheprovider --junitxml=reports/lab.xml "$@" \
        >reports/lab.out 2>&1 &
    lab_pid=$!
fi
.venv/bin/python -m pytest tests -n "${GHOSTGATES_TEST_WORKERS:-3}" -m "not lab" -q -p no:cacheprovider \
    --junitxml=reports/tests.xml "$@"
code=$?
wait "$mypy_pid"
typed=$?
echo "[test] the type check (mypy):"
cat reports/mypy.out
if [ -n "$lab_pid" ]; then
    wait "$lab_pid"
    lab=$?
    echo "[test] the lab (tests/lab, one engine):"
    cat reports/lab.out
    [ "$lab" -ne 0 ] && [ "$lab" -ne 5 ] && code=$lab
    bash scripts/swarm-teardown.sh || true
    lab_ready=0
fi
[ "$code" -eq 5 ] && code=0
[ "$typed" -ne 0 ] && [ "$code" -eq 0 ] && code=$typed
# One closing line for both runs, after the teardown's own output.
.venv/bin/python - reports/tests.xml reports/lab.xml <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for name in sys.argv[1:]:
    if Path(name).exists():
        for suite in ET.parse(name).getroot().iter("testsuite"):
            for key in total:
                total[key] += int(suite.get(key, 0))
failed = total["failures"] + total["errors"]
passed = total["tests"] - failed - total["skipped"]
print(f"total: {passed} passed, {failed} failed, {total['skipped']} skipped")
PY
exit "$code"
