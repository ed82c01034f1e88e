"""The simulator is a client, not a dependency: product packages never import ``marketlift.sim``.

Every module of each package is parsed (not imported) and every ``import`` and ``from ...
import`` statement, at module level or inside a function, is checked, relative imports
resolved against the module's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "marketlift"

# Every product package; ``sim`` is a client of these, and only ``demo``, ``cli``, benchmarks
# and tests may import it.
PACKAGES = (
    "serve", "policy", "ope", "models", "features", "experiments", "copy", "catalog",
    "monitor", "orchestration",
)  # fmt: skip
EXCLUDED: tuple[str, ...] = ()


def _modules(package: str) -> list[Path]:
    root = SRC / package
    return [
        p
        for p in sorted(root.rglob("*.py"))
        if not any(p.relative_to(SRC).as_posix().startswith(e + "/") for e in EXCLUDED)
    ]


def _imported(source: str, module: str) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``source`` (module ``module``)."""
    tree = ast.parse(source)
    package = module.split(".")[:-1]  # what a relative import of level 1 starts from
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            # ``from marketlift import sim``
            out.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
    return out


def _module_name(path: Path) -> str:
    parts = ["marketlift", *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts[-1] = "__init__"  # a package's relative imports start from the package itself
    return ".".join(parts)


def _sim_imports(source: str, module: str) -> list[str]:
    return [
        f"{module}:{line}: {name}"
        for line, name in _imported(source, module)
        if name == "marketlift.sim" or name.startswith("marketlift.sim.")
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_does_not_import_the_simulator(package: str) -> None:
    modules = _modules(package)
    assert modules, f"no modules under {package}"
    found = [hit for p in modules for hit in _sim_imports(p.read_text(), _module_name(p))]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        "import marketlift.sim",
        "import marketlift.sim.effects as fx",
        "from marketlift.sim import simulate",
        "from marketlift import sim",
        "from marketlift.sim.effects import ACTIONS",
        "def f():\n    from marketlift.sim.truth import read_truth\n",
        "from ..sim import effects",
        "from .. import sim",
    ],
)
def test_the_check_finds_every_form_of_import(code: str) -> None:
    assert _sim_imports(code, "marketlift.serve.decide")


def test_the_check_passes_other_imports() -> None:
    code = (
        "import marketlift.simulation_free\nfrom marketlift.policy import base\nfrom . import io\n"
    )
    assert _sim_imports(code, "marketlift.policy.train") == []


LOWER = (
    "events", "lake", "ingest", "catalog", "features", "models", "policy", "ope",
    "experiments", "copy", "monitor",
)  # fmt: skip
UPPER = ("marketlift.serve", "marketlift.cli", "marketlift.demo")


@pytest.mark.parametrize("package", LOWER)
def test_arrows_point_one_way(package: str) -> None:
    """The library never imports ``serve``, ``cli`` or ``demo`` (not even for types)."""
    found = [
        f"{_module_name(p)}:{line}: {name}"
        for p in _modules(package)
        for line, name in _imported(p.read_text(), _module_name(p))
        if any(name == u or name.startswith(u + ".") for u in UPPER)
    ]
    assert found == []
