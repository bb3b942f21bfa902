"""Architecture tier: the core never imports streamlit; pages stay thin."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    """respine/stats/mmrm.py -> respine.stats.mmrm; respine/stats/__init__.py -> respine.stats."""
    dotted = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return dotted.removesuffix(".__init__")


CORE_MODULES = sorted(
    _module_name(p)
    for p in (REPO / "respine").rglob("*.py")
    if "ui" not in p.relative_to(REPO / "respine").parts and p.relative_to(REPO).parts[-1] != "__main__.py"
    and p != REPO / "respine" / "__init__.py"
)

pytestmark = pytest.mark.architecture


def test_core_modules_found():
    assert {"respine.stats", "respine.stats.mmrm", "respine.derive", "respine.analyses.compare",
            "respine.cli", "respine.model.selection", "respine.present.tables"} <= set(CORE_MODULES)


def test_core_imports_no_streamlit_in_a_fresh_interpreter():
    code = ("import sys\nimport respine\n" + "".join(f"import {m}\n" for m in CORE_MODULES)
            + "bad = [m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.')]\n"
            "print(len(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_core_imports_without_the_app_extra_in_a_fresh_interpreter():
    """A notebook user's install (no [app] extra): every core module imports with streamlit,
    python-docx and kaleido unimportable (the Word report and PNG export load them when used)."""
    code = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'streamlit', 'docx', 'kaleido'}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r} (blocked)', name=name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "import respine\n" + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'docx', 'kaleido'}))\n"
        "try:\n    import docx\nexcept ModuleNotFoundError:\n    print('blocked')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]", "blocked"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("page", sorted((REPO / "app_pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_thin(page):
    """No pandas, numpy, scipy or statsmodels in pages, and no caching decorators."""
    imported = _imports(page)
    assert not imported & {"pandas", "numpy", "scipy", "statsmodels"}, imported
    text = page.read_text(encoding="utf-8")
    assert "st.cache_data" not in text and "st.cache_resource" not in text


def _layers():
    """scripts/layers.py, the import-contract checker that scripts/test.sh runs."""
    spec = importlib.util.spec_from_file_location("layers", REPO / "scripts" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["layers"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_the_tree_keeps_the_declared_layer_order():
    assert [str(v) for v in _layers().check(REPO)] == []


def _copy_of_the_tree(tmp_path: Path) -> Path:
    for top in ("respine", "app_pages"):
        shutil.copytree(REPO / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "app.py", tmp_path / "app.py")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("planted", "code", "target"),
    [
        # an import inside a function counts: stats never sees a Trial's files
        ("respine/stats/means.py", "def _late():\n    from respine.io import product\n", "io"),
        # a relative import, resolved to the module it loads
        ("respine/stats/means.py", "def _late():\n    from ..derive import measures\n", "derive"),
        # a type-only import is still an upward dependency
        ("respine/model/design.py",
         "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from respine.analyses import compare\n",
         "analyses"),
        # the generator never uses the analysis that checks it
        ("respine/synth.py", "import respine.analyses.compare\n", "analyses"),
        # the core never imports the package's curated API (it imports the defining module)
        ("respine/analyses/trend.py", "from respine import Selection\n", "respine"),
        # siblings are independent
        ("respine/io/files.py", "from respine import derive\n", "derive"),
    ],
)
def test_the_checker_catches_a_planted_violation(tmp_path, planted, code, target):
    layers = _layers()
    root = _copy_of_the_tree(tmp_path)
    with (root / planted).open("a", encoding="utf-8") as f:
        f.write("\n\n" + code)
    found = [(v.path, v.source, v.target) for v in layers.check(root)]
    assert found == [(planted, layers.box_of(_dotted(planted), layers.Contract.read(root)), target)]


def _dotted(path: str) -> str:
    return ".".join(Path(path).with_suffix("").parts).removesuffix(".__init__")


def test_a_stale_exemption_is_reported(tmp_path):
    layers = _layers()
    root = _copy_of_the_tree(tmp_path)
    with (root / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[tool.respine.layers.exempt]]\nsource = "respine.stats.means"\n'
                'target = "respine.io.product"\nreason = "planted"\n')
    stale = [(v.source, v.target) for v in layers.check(root)]
    assert stale == [("respine.stats.means", "respine.io.product")]


def test_the_command_fails_on_a_violation(tmp_path):
    root = _copy_of_the_tree(tmp_path)
    with (root / "respine" / "model" / "rules.py").open("a", encoding="utf-8") as f:
        f.write("\n\nfrom respine import stats\n")
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "layers.py"), str(root)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "respine/model/rules.py" in run.stderr and "model may not import stats" in run.stderr
    ok = subprocess.run([sys.executable, str(REPO / "scripts" / "layers.py")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def _pytest_in(tmp_path: Path, test_code: str) -> subprocess.CompletedProcess:
    """Run pytest, with this suite's conftest and markers, on one planted test file."""
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "test_planted.py").write_text(test_code, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path)


def test_a_test_with_two_tiers_is_refused(tmp_path):
    run = _pytest_in(tmp_path, "import pytest\n\npytestmark = pytest.mark.app\n\n\n"
                               "@pytest.mark.reference\ndef test_two():\n    pass\n")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "test_two: app, reference" in run.stderr


def test_an_unmarked_test_is_unit_and_may_not_start_the_app(tmp_path):
    run = _pytest_in(tmp_path, "from streamlit.testing.v1 import AppTest\n\n\n"
                               "def test_plain():\n    pass\n\n\n"
                               "def test_runs_the_app():\n    AppTest.from_string('x = 1')\n")
    assert "1 failed, 1 passed" in run.stdout, run.stdout
    assert "runs the app under AppTest but is marked 'unit'" in run.stdout
