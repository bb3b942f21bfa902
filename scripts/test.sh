#!/usr/bin/env bash
# Install the test needs (Python packages and Debian's chromium) and run every check:
# lint (ruff), types (mypy, configured in pyproject.toml), the import contracts (the layer order
# declared in pyproject.toml [tool.respine.layers], scripts/layers.py), then every test tier:
# unit, reference, app (AppTest), architecture, security and browser (headless Chromium).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not browser" while developing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python scripts/layers.py
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
