#!/usr/bin/env bash
# Install the test needs (Python packages and Debian's chromium) and run every test tier:
# lint, unit, reference, app (AppTest), architecture and browser (headless Chromium).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not browser" while developing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
