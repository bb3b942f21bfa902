"""Deployment, as far as a machine without a Docker engine can check it.

The Dockerfile is read instruction by instruction: its COPY sources exist and are not excluded by
.dockerignore, it installs the hash-locked requirements, runs as a non-root user and checks the
server's health. Then the image's file tree is assembled from its COPY instructions in a
temporary folder and the app is run from there (AppTest, in a fresh interpreter), which proves
that the image holds everything the app imports. The server settings and the example secrets are
checked too.
"""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from respine.ui import access
from tests.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def copies() -> list[tuple[list[str], str]]:
    result = []
    for word, rest in instructions():
        if word == "COPY":
            *sources, dest = shlex.split(rest)
            result.append((sources, dest))
    return result


def ignored(path: str) -> bool:
    patterns = [
        p.strip() for p in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.startswith("#")
    ]
    parts = Path(path).parts
    for pattern in patterns:
        pattern = pattern.lstrip("/").removeprefix("**/")
        if fnmatch.fnmatch(path, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
            return True
    return False


def test_dockerfile_uses_python_311_and_the_locked_requirements():
    steps = instructions()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11-")
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "pip install --require-hashes -r requirements/app.lock" in runs
    assert "--no-deps" in runs  # the app itself adds no unlocked dependency


def test_dockerfile_copies_files_that_exist_and_are_not_ignored():
    for sources, _dest in copies():
        for source in sources:
            assert (REPO / source).exists(), source
            assert not ignored(source), f"{source} is excluded by .dockerignore"


def test_no_secrets_and_no_local_tooling_enter_the_image():
    for path in (".streamlit/secrets.toml", "deploy/secrets.toml", ".venv", ".git", "tests"):
        assert ignored(path), path
    copied = [s for sources, _ in copies() for s in sources]
    assert not any("secrets" in s for s in copied)
    assert ".streamlit/secrets.toml" in (REPO / ".gitignore").read_text(encoding="utf-8")


def test_container_runs_unprivileged_with_a_health_check_on_all_interfaces():
    steps = dict(instructions())
    assert steps["USER"] not in ("root", "0")
    assert "/_stcore/health" in steps["HEALTHCHECK"]
    assert steps["EXPOSE"] == "8501"
    command = " ".join(shlex.split(steps["CMD"].strip("[]").replace(",", " ")))
    assert "streamlit run serve.py" in command and "--server.address=0.0.0.0" in command


@pytest.mark.app  # it runs the app (AppTest, in the image's file tree)
def test_the_image_file_tree_runs_the_app(tmp_path):
    """Assemble what the COPY instructions put in /app and run the app from it in a fresh
    interpreter: every module it needs is in the image."""
    app = tmp_path / "app"
    for sources, dest in copies():
        for source in sources:
            src = REPO / source
            target = app / (dest if not dest.endswith("/") else dest + src.name)
            if dest in ("./", "."):
                target = app / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, target)
    script = (
        "import respine, sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "assert respine.__file__.startswith(sys.argv[1]), respine.__file__\n"
        "at = AppTest.from_file(sys.argv[1] + '/app.py', default_timeout=60).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "print({m.label: m.value for m in at.metric})\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(app)], cwd=app, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'BM\\\\-MSC responders': '74%'" in done.stdout  # the label, Markdown-escaped, as repr shows it


def test_server_settings_are_the_safe_ones():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    safe = {option: value for option, value, _why in access.SAFE_SERVER_OPTIONS}
    for option, value in safe.items():
        section, name = option.split(".")
        assert config[section][name] == value, option
    assert 0 < config["server"]["maxUploadSize"] <= 200


@pytest.mark.parametrize("variant", ["password", "oidc"])
def test_the_example_secrets_are_valid(variant):
    """The documented example works as it stands (shared password) and with its [auth] block
    uncommented (sign-in): both lead to aggregate-only mode with k = 5."""
    text = (REPO / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8")
    if variant == "oidc":
        block = text.split("# [auth]", 1)[1].split("\n\n", 1)[0]
        text = text.replace("# [auth]" + block, "[auth]" + block.replace("\n# ", "\n"))
    secrets = tomllib.loads(text)
    cfg = access.config_from_secrets(secrets)
    assert cfg.mode == variant
    assert cfg.disclosure.aggregate_only and cfg.disclosure.min_cell == 5


def test_root_requirements_are_the_app_lock():
    """Hosts that read a root requirements.txt get exactly the locked set."""
    lines = [
        line.strip() for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-r requirements/app.lock"]


# --- the package and its locks ------------------------------------------------------------------

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("streamlit[auth]>=1.50" -> "streamlit")."""
    for i, ch in enumerate(requirement):
        if not (ch.isalnum() or ch in "-_."):
            requirement = requirement[:i]
            break
    return requirement.lower().replace("_", "-").replace(".", "-")


def _lock(name: str) -> tuple[str, dict[str, str]]:
    """The compile command in a lock's header and its pins {name: version}."""
    text = (REPO / "requirements" / name).read_text(encoding="utf-8")
    command = text.splitlines()[1].lstrip("# ").strip()
    pins = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and "==" in line:
            pkg, _, version = line.partition("==")
            pins[_name(pkg)] = version.split()[0]
    return command, pins


@pytest.mark.parametrize(("lock", "extras"), [("app.lock", ["app"]), ("test.lock", ["app", "test"])])
def test_each_lock_is_compiled_from_pyproject_with_its_extras(lock, extras):
    command, pins = _lock(lock)
    assert command == ("uv pip compile pyproject.toml requirements/build.in "
                       + "".join(f"--extra {e} " for e in extras)
                       + f"--python-version 3.11 --generate-hashes -o requirements/{lock}")
    wanted = PYPROJECT["project"]["dependencies"] + [
        r for e in extras for r in PYPROJECT["project"]["optional-dependencies"][e]]
    assert {_name(r) for r in wanted} <= set(pins), "pyproject.toml changed: recompile the lock"


def test_the_tests_check_the_versions_the_app_runs():
    """Every pin of the app's lock is the same in the test lock (the tests only add tools)."""
    _, app = _lock("app.lock")
    _, test = _lock("test.lock")
    assert {k: test.get(k) for k in app} == app


def test_the_core_needs_no_web_stack():
    """pip install respine gives the analysis package alone: the app's needs are the [app] extra."""
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert not core & {"streamlit", "python-docx", "kaleido"}
    assert {"streamlit", "python-docx", "kaleido"} <= {
        _name(r) for r in PYPROJECT["project"]["optional-dependencies"]["app"]}


def test_the_version_is_written_once():
    import importlib.metadata

    import respine

    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "respine.__version__"}
    assert importlib.metadata.version("respine") == respine.__version__
    shown = subprocess.run([sys.executable, "-m", "respine", "--version"], capture_output=True, text=True)
    assert shown.stdout.strip() == f"respine {respine.__version__}"


def test_the_built_wheel_carries_py_typed_and_the_version(tmp_path):
    """py.typed is package data: a type checker of the package's users sees its annotations."""
    import zipfile

    import respine

    source = tmp_path / "source"  # a copy: a build writes build/ and *.egg-info next to its sources
    shutil.copytree(REPO / "respine", source / "respine", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("respine-*.whl")
    assert wheel.name.startswith(f"respine-{respine.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "respine/py.typed" in names and "respine/stats/mmrm.py" in names


# ------------------------------------------------------------------ the balanced topology files
COMPOSE = REPO / "compose.yaml"
HAPROXY_CFG = REPO / "deploy" / "haproxy.cfg"


def test_compose_and_the_balancer_config_name_the_same_replicas():
    """Every ``server appK "${RESPINE_APPK}"`` of deploy/haproxy.cfg is a service of compose.yaml
    built from the repository's Dockerfile, and the balancer service sets RESPINE_APPK to it; every
    replica shares one required cookie secret (a browser moved to another replica keeps its
    cookies). The file is read as text: no YAML library is a dependency for one file."""
    import re

    cfg = HAPROXY_CFG.read_text(encoding="utf-8")
    compose = COMPOSE.read_text(encoding="utf-8")
    servers = re.findall(r'^\s*server (app\d+) "\$\{(RESPINE_APP\d+)\}" cookie (app\d+)', cfg, re.M)
    assert [s[0] for s in servers] == ["app1", "app2"]
    for name, variable, cookie in servers:
        assert cookie == name
        assert re.search(rf"^  {name}: \*replica$", compose, re.M), f"compose.yaml has no service {name}"
        assert re.search(rf"^      {variable}: {name}:8501$", compose, re.M), f"balancer lacks {variable}"
    assert re.search(r"^  build: \.$", compose, re.M) and DOCKERFILE.exists()
    assert "STREAMLIT_SERVER_COOKIE_SECRET: ${RESPINE_COOKIE_SECRET:?" in compose
    assert "./deploy:/usr/local/etc/haproxy:ro" in compose
    assert "RESPINE_DEPLOY_DIR: /usr/local/etc/haproxy" in compose


def test_haproxy_accepts_the_balancer_config(tmp_path):
    """Debian's haproxy checks deploy/haproxy.cfg (``haproxy -c``) with the addresses the cluster
    script would give it: the config the tests run is one HAProxy accepts, not just text."""
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/bin")
    if haproxy is None:  # scripts/setup.sh test installs it: a missing one is a broken set-up
        pytest.fail("haproxy not found: run scripts/setup.sh test", pytrace=False)
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "RESPINE_BIND": "127.0.0.1:18501",
           "RESPINE_STATS_BIND": "127.0.0.1:18404", "RESPINE_APP1": "127.0.0.1:18502",
           "RESPINE_APP2": "127.0.0.1:18503", "RESPINE_DEPLOY_DIR": str(HAPROXY_CFG.parent)}
    done = subprocess.run([haproxy, "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
