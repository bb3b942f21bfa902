"""Check the import contracts of the package: the layer order declared in pyproject.toml.

    python scripts/layers.py            # the repository this script lives in
    python scripts/layers.py ROOT       # any tree with a pyproject.toml holding [tool.respine.layers]

The contract is declared once, in ``[tool.respine.layers]`` of pyproject.toml:

* ``order``: the levels from the bottom up; a level is a list of boxes that are independent
  siblings (none imports another). A box may import only boxes on lower levels.
* ``only``: for a box, the boxes it may import at all (a further narrowing of the order, e.g.
  ``stats`` never sees io, derive or analyses; ``synth`` uses stats and model only).

A box is a top-level module or sub-package of ``respine`` (``respine.stats.mmrm`` is in box
``stats``; ``respine.errors`` in ``errors``; the package's ``__init__``, its curated API, is box
``respine``), or one of the ``roots`` outside it (``app.py`` is box ``app``, every module of
``app_pages/`` is box ``app_pages``); ``aliases`` puts a module into another box
(``respine.__main__`` is the CLI); ``exempt`` lists single module-to-module imports allowed
against the order, each with its reason (an exemption that no longer matches an import is itself
reported, so it goes once the code is moved). Every ``import`` counts, at module level or inside a
function, and so does an import under ``if TYPE_CHECKING:`` (a type-only upward import is still
an upward dependency). Exit status 1 lists every violation with its file and line.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Contract:
    """The layer order of one tree, read from its pyproject.toml."""

    package: str
    roots: tuple[str, ...]
    levels: tuple[frozenset[str], ...]
    only: dict[str, frozenset[str]]
    aliases: dict[str, str]
    exempt: dict[tuple[str, str], str]

    @classmethod
    def read(cls, root: Path) -> Contract:
        """Read ``[tool.respine.layers]`` from ``root/pyproject.toml``."""
        table = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        spec = table["tool"]["respine"]["layers"]
        levels = tuple(frozenset(level) for level in spec["order"])
        boxes = [b for level in levels for b in level]
        if len(boxes) != len(set(boxes)):
            raise ValueError("a box is declared on two levels of [tool.respine.layers].order")
        only = {k: frozenset(v) for k, v in spec.get("only", {}).items()}
        unknown = (set(only) | {b for v in only.values() for b in v}) - set(boxes)
        if unknown:
            raise ValueError(f"[tool.respine.layers].only names undeclared boxes: {sorted(unknown)}")
        exempt = {(e["source"], e["target"]): e["reason"] for e in spec.get("exempt", ())}
        return cls(spec["package"], tuple(spec.get("roots", ())), levels, only,
                   dict(spec.get("aliases", {})), exempt)

    def level(self, box: str) -> int:
        """The level of ``box`` (0 is the bottom)."""
        for i, level in enumerate(self.levels):
            if box in level:
                return i
        raise KeyError(box)

    def allowed(self, source: str, target: str) -> bool:
        """Whether box ``source`` may import box ``target``."""
        if source == target:
            return True
        if source in self.only and target not in self.only[source]:
            return False
        return self.level(target) < self.level(source)


@dataclass(frozen=True)
class Violation:
    """One import that breaks the contract."""

    path: str
    line: int
    source: str
    target: str
    imported: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} may not import {self.target} ({self.imported})"


def _modules(root: Path, contract: Contract) -> dict[str, Path]:
    """Every module of the checked tree by dotted name."""
    found: dict[str, Path] = {}
    for top in (contract.package, *contract.roots):
        base = root / top
        files = [base.with_suffix(".py")] if base.with_suffix(".py").is_file() else sorted(base.rglob("*.py"))
        for path in files:
            dotted = ".".join(path.relative_to(root).with_suffix("").parts)
            found[dotted.removesuffix(".__init__")] = path
    return found


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """The modules of the tree that one import statement loads (closest known module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            parts = module.split(".")
            base = parts if path.name == "__init__.py" else parts[:-1]
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join([*base, *([node.module] if node.module else [])])
        else:
            origin = node.module or ""
        # ``from respine import derive`` loads the module respine.derive, not the package's API.
        names = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
    out = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def box_of(module: str, contract: Contract) -> str:
    """The box a dotted module name belongs to."""
    if module in contract.aliases:
        return contract.aliases[module]
    parts = module.split(".")
    if parts[0] == contract.package:
        return parts[1] if len(parts) > 1 else contract.package
    return parts[0]


def check(root: Path) -> list[Violation]:
    """Every import in the tree at ``root`` that breaks its declared layer order."""
    contract = Contract.read(root)
    modules = _modules(root, contract)
    known = set(modules)
    declared = {b for level in contract.levels for b in level}
    violations: list[Violation] = []
    used: set[tuple[str, str]] = set()
    for module, path in sorted(modules.items()):
        source = box_of(module, contract)
        if source not in declared:
            violations.append(Violation(str(path.relative_to(root)), 1, source, "?", "box not declared"))
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target_module in _imported(module, path, node, known):
                target = box_of(target_module, contract)
                if (module, target_module) in contract.exempt:
                    used.add((module, target_module))
                    continue
                if target not in declared or not contract.allowed(source, target):
                    bad = Violation(str(path.relative_to(root)), node.lineno, source, target, target_module)
                    if bad not in violations:  # one line importing three names is one violation
                        violations.append(bad)
    for source_module, target_module in sorted(set(contract.exempt) - used):
        violations.append(Violation("pyproject.toml", 0, source_module, target_module,
                                    "stale exemption: no such import any more, remove it"))
    return violations


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    violations = check(root)
    for v in violations:
        print(v, file=sys.stderr)
    if violations:
        print(f"layers: {len(violations)} import(s) break [tool.respine.layers] (pyproject.toml)",
              file=sys.stderr)
        return 1
    contract = Contract.read(root)
    print(f"layers: {len(_modules(root, contract))} modules keep the layer order "
          + " < ".join("|".join(sorted(level)) for level in contract.levels))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
