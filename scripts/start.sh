#!/usr/bin/env bash
# Install what the app needs (once) and start it on the shipped data: http://localhost:8501
# serve.py is app.py behind the hosting guard (respine/ui/guard.py).
# It listens on this machine only (127.0.0.1): the trial's data are not offered to the network
# unless asked for, e.g. scripts/start.sh --server.address 0.0.0.0 (every interface).
# Extra arguments go to `streamlit run`, e.g. scripts/start.sh --server.port 8600
# RESPINE_START_DRY_RUN=1 prints the command instead of running it (and installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
address=(--server.address 127.0.0.1)
for arg in "$@"; do
    # The caller's address wins, in either spelling (--server.address X, --server.address=X); so
    # does Streamlit's own environment variable.
    if [[ "$arg" == --server.address || "$arg" == --server.address=* ]]; then
        address=()
    fi
done
if [[ -n "${STREAMLIT_SERVER_ADDRESS:-}" ]]; then
    address=()
fi
command=(.venv/bin/python -m streamlit run serve.py "${address[@]}" "$@")
if [[ "${RESPINE_START_DRY_RUN:-}" == 1 ]]; then
    printf '%s\n' "${command[*]}"
    exit 0
fi
bash scripts/setup.sh app
exec "${command[@]}"
