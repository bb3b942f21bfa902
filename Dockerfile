# The RESPINE results explorer in a container: the locked dependencies, the app and the shipped
# synthetic twin. The trial's real data and the app's secrets are never built into the image:
# mount them at run time (README, section Deployment).
#
#   docker build -t respine-explorer .
#   docker run -p 8501:8501 \
#     -v /srv/respine/secrets.toml:/app/.streamlit/secrets.toml:ro \
#     -v /srv/respine/trial:/trial:ro -e RESPINE_DATA=/trial respine-explorer
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (their layer is reused while only the app changes), hash-checked as in
# scripts/setup.sh, so the image computes the numbers the tests checked. app.lock is the core
# and its [app] extra (streamlit, python-docx, kaleido); the --no-deps install below adds nothing.
COPY requirements/app.lock requirements/app.lock
RUN python -m pip install --require-hashes -r requirements/app.lock

COPY pyproject.toml README.md app.py serve.py ./
COPY respine respine
COPY app_pages app_pages
COPY data data
COPY .streamlit/config.toml .streamlit/config.toml
RUN python -m pip install --no-deps --no-build-isolation . \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin respine

# The app never writes to its own folder; it runs as an unprivileged user.
USER respine
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
# serve.py: app.py behind the hosting guard (respine/ui/guard.py), which a login requires.
CMD ["python", "-m", "streamlit", "run", "serve.py", "--server.address=0.0.0.0", "--server.port=8501"]
