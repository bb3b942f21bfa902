#!/usr/bin/env bash
# Install what the app needs (once) and start it on the shipped data: http://localhost:8501
# serve.py is app.py behind the hosting guard (respine/ui/guard.py).
# Extra arguments go to `streamlit run`, e.g. scripts/start.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/python -m streamlit run serve.py "$@"
