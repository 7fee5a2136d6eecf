"""The package reads in one direction: its floors (docs/architecture.md) import only their own floor and
those below, with no import cycle and no module importing the package that holds it; no module over 600
lines, no function over 80 lines (the imports counted are every ``import`` statement, at module or
function level)."""

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "ncrepro"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# docs/architecture.md, "The package, bottom to top": a module (or package, with its submodules) per floor.
FLOORS = (
    ("ncrepro", "errors", "io", "digests", "version", "regimes", "progress", "environment"),
    ("datasets", "imagenet", "architectures", "config"),
    (
        "data",
        "models",
        "train",
        "distributed",
        "checkpoints",
        "stats",
        "statsfile",
        "metrics",
        "transfer",
        "surrogates",
    ),
    ("figures",),
    ("stages", "commands", "specs", "cli", "explain", "plan", "cost", "results", "report", "provenance"),
)


def floor(module: str) -> int:
    """The floor of ``module`` (``ncrepro.config.layers`` is on ``config``'s)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "ncrepro"
    return next((i for i, names in enumerate(FLOORS) if top in names), None)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ["ncrepro", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports: a name imported from a package counts as that package unless
    it is a submodule of it."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                out.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_passes_a_tree():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    assert cycle(import_graph()) is None


def test_every_module_has_a_floor_and_imports_none_above_it():
    graph = import_graph()
    assert [name for name in graph if floor(name) is None] == []
    above = [f"{a} imports {b}" for a, others in graph.items() for b in others if floor(b) > floor(a)]
    assert above == []


def test_no_module_imports_a_package_that_holds_it():
    upward = [
        f"{name} imports {other}"
        for name, others in import_graph().items()
        for other in others
        if name.startswith(other + ".")
    ]
    assert upward == []


def test_no_module_is_long():
    lines = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    long = {name: n for name, n in lines.items() if n > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_long():
    long = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert long == []
