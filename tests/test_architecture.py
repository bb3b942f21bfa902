"""Architecture tier: the core never imports streamlit; pages stay thin."""

from __future__ import annotations

import ast
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
