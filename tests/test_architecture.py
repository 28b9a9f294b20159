"""The shape of the code a reviewer relies on: no import cycle, no private names borrowed
from another module, statistics in functions short enough to check by reading."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sizecheck"
STATISTICS = [
    *sorted((PACKAGE / "stats").glob("*.py")),
    PACKAGE / "drift.py",
    PACKAGE / "scale.py",
    PACKAGE / "cluster.py",
]
#: The capability modules: what they compute is read the same way as the statistics.
CAPABILITIES = [
    PACKAGE / f"{name}.py"
    for name in (
        "compare",
        "engine_dask",
        "findings",
        "gage",
        "power",
        "propose",
        "sampling",
        "simulate",
        "tables",
    )
]
#: The pages and charts a person reads: each piece of them is read the same way.
PRESENTATION = [
    PACKAGE / "plotting" / "control.py",
    PACKAGE / "plotting" / "forest.py",
    PACKAGE / "plotting" / "gage.py",
    PACKAGE / "plotting" / "ladder.py",
    PACKAGE / "plotting" / "proposal.py",
    PACKAGE / "plotting" / "scales.py",
    PACKAGE / "report_gage.py",
    PACKAGE / "report_html.py",
    PACKAGE / "report_propose.py",
]
MAX_FUNCTION_LINES = 80

#: Known and deliberate: nothing else is excused; any new cycle or borrowed private name
#: fails.
KNOWN_EDGES = {
    # analyse(engine="dask") hands the run to the Dask engine, which runs analyse_deviations
    ("sizecheck.pipeline", "sizecheck.engine_dask"),
}
KNOWN_PRIVATE: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """The sizecheck modules ``path`` imports, at module level or inside functions (an
    import that runs only for type checkers does not count)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module in MODULES and not node.level:
            for a in node.names:  # ``from sizecheck import drift`` imports a module
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_the_module_graph_has_no_cycle():
    # Edges are the import statements themselves; a package's __init__ counts as a node
    # of its own (importing sizecheck.stats.groups does not make groups depend on every
    # module the package's __init__ re-exports).
    graph = {name: _imports(path) - {name} for name, path in MODULES.items()}
    for a, b in KNOWN_EDGES:
        graph.get(a, set()).discard(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    # the graph is real: the statistics do depend on each other
    assert "sizecheck.stats.groups" in graph["sizecheck.drift"]


def test_no_module_uses_another_modules_private_names():
    offences = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sizecheck"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        offences.append(f"{name}: from {node.module} import {a.name}")
                    aliases.add(a.asname or a.name)
            elif isinstance(node, ast.Import):
                aliases.update(a.asname or a.name for a in node.names if a.name in MODULES)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and (name, node.value.id) not in KNOWN_PRIVATE
            ):
                offences.append(f"{name}: {node.value.id}.{node.attr}")
    assert not offences


@pytest.mark.parametrize("path", STATISTICS + CAPABILITIES + PRESENTATION, ids=lambda p: p.name)
def test_statistics_functions_are_short_enough_to_read(path):
    # lines of code after the docstring
    long = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            first = node.body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            start = first.end_lineno + 1 if has_doc and len(node.body) > 1 else first.lineno
            if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                long.append(f"{node.name}: {node.end_lineno - start + 1} lines")
    assert not long
