#!/usr/bin/env bash
# Create .venv and install the locked dependencies.
#   scripts/setup.sh app    # what the app needs: the analysis core and its [app] extra
#                           # (streamlit, python-docx, kaleido, redis), requirements/app.lock
#   scripts/setup.sh test   # plus the [test] extra (pytest, ruff, mypy and the pandas/scipy
#                           # stubs), requirements/test.lock, and Debian's chromium, haproxy and redis-server
# A notebook user who wants the analysis package alone runs `pip install .` (no extra).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv 2>/dev/null; then
        # Debian splits venv support into its own package.
        rm -rf .venv
        if command -v apt-get >/dev/null; then
            echo "setup: installing python3-venv with apt-get" >&2
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$python" -m venv .venv
        else
            echo "setup: '$python -m venv' failed; install your distribution's venv package." >&2
            exit 1
        fi
    fi
fi

lock="requirements/${profile}.lock"
[ -f "$lock" ] || { echo "setup: unknown profile '$profile' (use app or test)" >&2; exit 2; }
stamp=".venv/.installed-${profile}"
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
    touch "$stamp"
fi

if [ "$profile" = test ]; then
    # Debian packages the test tiers run for real: chromium (browser tier), haproxy and
    # redis-server (the balancer topology and the shared attempt limiter).
    need=()
    command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
    command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
    if [ "${#need[@]}" -gt 0 ]; then
        if command -v apt-get >/dev/null; then
            echo "setup: installing Debian's ${need[*]} for the test tiers" >&2
            SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
            $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
        else
            echo "setup: the test tiers need ${need[*]} (Chromium at /usr/bin/chromium or RESPINE_CHROMIUM)." >&2
            exit 1
        fi
    fi
fi
