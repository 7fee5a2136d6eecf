"""Code provenance: a digest of exactly the package code a job runs.

Each rule passes a digest as a Snakemake param, so editing code a job runs reruns that job -- and,
through its newer outputs, everything downstream -- and nothing else (Snakemake's default ``params``
rerun trigger). There is one digest per stage (:func:`stage_digest`), per surrogate model
(:func:`surrogate_digest`) and per figure kind (:func:`figure_digest`).

What a job runs is derived from the code, never listed by hand. From the job's entry points (its stage
function in :mod:`ncrepro.stages`, the solver of a surrogate model, the functions of a figure kind) the
closure (:class:`Closure`) follows every name a definition uses to the top-level definition of that
name: in its own module, or through an import -- at module or function level -- in another module of
the package. A new import cannot open a hole, and editing one function of a shared module reruns only
the jobs that use it. Statements that bind no name (``matplotlib.use("Agg")``) count whenever their
module is imported, as does the body of each package ``__init__`` above it. The package's only dynamic
imports are its two dispatch tables, the surrogate solvers and the figure catalogue: an entry point names
the solver or kind directly and the table is left out, so adding a model or a kind reruns nothing else.

A digest is of the code, not its text: it hashes syntax trees with docstrings removed (comments and
layout are not in them), so a documentation edit reruns nothing, while any change of code -- a constant,
an expression, an import -- reruns every job that runs it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "ncrepro"
PACKAGE_DIR = Path(__file__).resolve().parent

# Stage -> its function in ncrepro.stages (what the stage's CLI command calls).
STAGE_ENTRY = {
    "stage_data": "stage_data",
    "train": "stage_train",
    "stats": "stage_stats",
    "metrics": "stage_metrics",
    "transfer": "stage_transfer",
    "surrogate": "stage_surrogate",
    "figure": "stage_figure",
}
# Dispatch tables (module, name): the entry a job selects counts, the table does not.
DISPATCH_TABLES = {("ncrepro.surrogates", "SOLVERS"), ("ncrepro.figures.catalogue", "KINDS")}

ALL = "*"  # every top-level definition of a module (a module object used as a whole)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` with the docstrings of every body dropped (in place: trees here are freshly parsed)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            node.body = [s for s in body if not _is_docstring(s)] or [ast.Pass()]
    return tree


def _imported(stmt: ast.Import | ast.ImportFrom, bound: str) -> str:
    """What an import statement binds to ``bound``: ``numpy``, ``.metrics.rank_tau`` (dots: the level)."""
    for a in stmt.names:
        if (a.asname or a.name).split(".")[0] == bound:
            if isinstance(stmt, ast.Import):
                return a.name if a.asname else bound
            return "." * stmt.level + (f"{stmt.module}." if stmt.module else "") + a.name
    raise ValueError(f"the import does not bind {bound}")


def _bound_names(stmt: ast.stmt) -> set[str]:
    """The names a top-level statement binds: a definition, an assignment, an import."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


class Module:
    """One parsed module: its top-level statements (docstrings dropped), which statements define each
    name, and its preamble (the statements that bind no name)."""

    def __init__(self, name: str, path: Path):
        self.name = name
        self.is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        self.statements = [s for s in tree.body if not _is_docstring(s)]
        self.defines: dict[str, list[int]] = {}
        self.preamble: list[int] = []
        for i, stmt in enumerate(self.statements):
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                continue
            names = _bound_names(stmt)
            if not names:
                self.preamble.append(i)
            for name in names:
                self.defines.setdefault(name, []).append(i)
        self._dumps: dict[int, str] = {}
        self._uses: dict[int, tuple] = {}

    def dump(self, i: int) -> str:
        """Statement ``i``'s syntax tree without docstrings, as text (what a digest hashes)."""
        if i not in self._dumps:
            self._dumps[i] = ast.dump(_without_docstrings(self.statements[i]))
        return self._dumps[i]

    def uses(self, i: int) -> tuple[set[str], list, dict[str, tuple[set[str], bool]]]:
        """Of statement ``i``: the names it reads, the imports inside it, and per name the attributes read
        from it (``metrics.rank_tau``) and whether the name is also used bare."""
        if i not in self._uses:
            stmt = self.statements[i]
            parents = {id(child): node for node in ast.walk(stmt) for child in ast.iter_child_nodes(node)}
            names: dict[str, tuple[set[str], bool]] = {}
            imports = []
            for node in ast.walk(stmt):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    imports.append(node)
                elif isinstance(node, ast.Name):
                    attributes, bare = names.get(node.id, (set(), False))
                    parent = parents.get(id(node))
                    if isinstance(parent, ast.Attribute) and parent.value is node:
                        attributes.add(parent.attr)
                    else:
                        bare = True
                    names[node.id] = (attributes, bare)
            self._uses[i] = (set(names), imports, names)
        return self._uses[i]


@functools.cache
def _parse(name: str, path: Path, mtime_ns: int) -> Module:
    """A module parsed once per process (and again when its file changes)."""
    return Module(name, path)


class Closure:
    """The statements that a set of entry points runs, over the modules of the package in
    ``package_dir`` (default: this package)."""

    def __init__(self, package_dir: Path | str = PACKAGE_DIR):
        self.package_dir = Path(package_dir)
        self.modules: dict[str, Module] = {}
        self.included: dict[str, set[int]] = {}
        self.bindings: dict[str, set[str]] = {}  # per module, the top-level import bindings used

    def path(self, module: str) -> Path | None:
        """The file of a package module (``ncrepro.figures`` -> figures/__init__.py), None if none."""
        rel = Path(*module.split(".")[1:])
        for path in (self.package_dir / rel / "__init__.py", (self.package_dir / rel).with_suffix(".py")):
            if path.is_file():
                return path
        return None

    def module(self, name: str) -> Module:
        if name not in self.modules:
            path = self.path(name)
            if path is None:
                raise ValueError(f"no module {name} in {self.package_dir}")
            self.modules[name] = _parse(name, path, path.stat().st_mtime_ns)
        return self.modules[name]

    def add(self, module: str, names: str | tuple[str, ...] = ALL) -> Closure:
        """Include ``names`` of ``module`` (ALL: every definition) and everything they use."""
        mod = self.module(module)
        parts = module.split(".")
        for k in range(1, len(parts) + 1):  # importing a module runs the preambles of it and its packages
            package = self.module(".".join(parts[:k]))
            for i in package.preamble:
                self._include(package, i)
        for name in mod.defines if names == ALL else names:
            if name not in mod.defines:
                raise ValueError(f"{module} defines no {name!r}")
            self._use(mod, name, None)
        return self

    def resolve(self, mod: Module, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str, str | None]]:
        """(bound name, package module, imported name; None for a module object) of each package-internal
        name an import binds."""
        if isinstance(node, ast.Import):
            return [
                ((a.asname or a.name).split(".")[0], a.name if a.asname else PACKAGE, None)
                for a in node.names
                if a.name == PACKAGE or a.name.startswith(PACKAGE + ".")
            ]
        if node.level:
            parts = mod.name.split(".")
            base = parts if mod.is_package else parts[:-1]
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if module != PACKAGE and not module.startswith(PACKAGE + "."):
            return []
        out = []
        for a in node.names:
            submodule = f"{module}.{a.name}"
            bound = a.asname or a.name
            out.append((bound, submodule, None) if self.path(submodule) else (bound, module, a.name))
        return out

    def _use(self, mod: Module, name: str, usage: tuple[set[str], bool] = (set(), True)) -> None:
        """Include the top-level definition of ``name`` in ``mod``, read as ``usage`` (the attributes read
        from it, and whether it is used bare): a statement, or an import binding and what it binds."""
        if (mod.name, name) in DISPATCH_TABLES:
            return
        for j in mod.defines.get(name, []):
            target = mod.statements[j]
            if not isinstance(target, ast.Import | ast.ImportFrom):
                self._include(mod, j)
                continue
            self.bindings.setdefault(mod.name, set()).add(f"{name} = {_imported(target, name)}")
            for bound, module, imported in self.resolve(mod, target):
                if bound == name:
                    self._depend(module, imported, usage)

    def _depend(self, module: str, imported: str | None, usage: tuple[set[str], bool]) -> None:
        """Include ``imported`` of ``module`` or, for a module object (``imported`` None), the attributes
        read from it (``metrics.rank_tau``; a submodule attribute: all of that submodule), or all of it
        where the object itself is used."""
        if imported is not None:
            self.add(module, (imported,))
            return
        attributes, bare = usage
        defined = self.module(module).defines
        self.add(module, ALL if bare else tuple(sorted(a for a in attributes if a in defined)))
        for attr in sorted(attributes - set(defined)):
            if self.path(f"{module}.{attr}"):
                self.add(f"{module}.{attr}")

    def _include(self, mod: Module, i: int) -> None:
        """Include statement ``i`` of ``mod`` and what it uses: the top-level definitions of the names it
        reads in ``mod`` and, through imports (top-level or inside it), definitions in other modules."""
        seen = self.included.setdefault(mod.name, set())
        if i in seen:
            return
        seen.add(i)
        used, imports, usage = mod.uses(i)
        local = {b: (m, n) for node in imports for b, m, n in self.resolve(mod, node)}  # function-level imports
        for name in sorted(used):
            if name in local:
                self._depend(*local[name], usage[name])
            else:
                self._use(mod, name, usage[name])

    def digest(self) -> str:
        """SHA-256 (16 hex digits) of the included statements' syntax trees and the top-level import
        bindings they use (``np = numpy``: how imports are laid out does not count), module by module."""
        h = hashlib.sha256()
        for name in sorted(self.included):
            mod = self.modules[name]
            h.update(name.encode())
            for binding in sorted(self.bindings.get(name, ())):
                h.update(binding.encode())
            for i in sorted(self.included[name]):
                h.update(mod.dump(i).encode())
        return h.hexdigest()[:16]

    def module_names(self) -> set[str]:
        """The modules of which some statement is included."""
        return {name for name, stmts in self.included.items() if stmts}


def literal_table(module: str, name: str, package_dir: Path | str = PACKAGE_DIR):
    """The value of a top-level assignment of literals (e.g. ``surrogates.SOLVERS``), read without
    importing its module."""
    closure = Closure(package_dir)
    mod = closure.module(module)
    (i,) = mod.defines[name]
    return ast.literal_eval(mod.statements[i].value)


def stage_closure(stage: str, package_dir: Path | str = PACKAGE_DIR) -> Closure:
    return Closure(package_dir).add(f"{PACKAGE}.stages", (STAGE_ENTRY[stage],))


def surrogate_closure(model: str, package_dir: Path | str = PACKAGE_DIR) -> Closure:
    """A surrogate solve: its stage function and its model's solver (``surrogates.SOLVERS``)."""
    module, function = literal_table(f"{PACKAGE}.surrogates", "SOLVERS", package_dir)[model]
    return stage_closure("surrogate", package_dir).add(module, (function,))


@functools.cache
def kind_entries(package_dir: Path | str = PACKAGE_DIR) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every figure kind's paper module and the names its ``KINDS`` entry uses (its functions), read from the
    source of ``figures/*.py`` (so that a copy of the package can be digested without importing it)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for path in sorted((Path(package_dir) / "figures").glob("*.py")):
        for stmt in ast.parse(path.read_text()).body:
            if isinstance(stmt, ast.Assign) and [ast.unparse(t) for t in stmt.targets] == ["KINDS"]:
                for key, value in zip(stmt.value.keys, stmt.value.values, strict=True):
                    uses = sorted({n.id for n in ast.walk(value) if isinstance(n, ast.Name)})
                    out[key.value] = (path.stem, tuple(uses))
    return out


def figure_closure(kind: str, package_dir: Path | str = PACKAGE_DIR) -> Closure:
    """A figure: its stage function and the functions of its kind (its paper module's ``KINDS`` entry)."""
    module, uses = kind_entries(package_dir)[kind]
    return stage_closure("figure", package_dir).add(f"{PACKAGE}.figures.{module}", uses)


@functools.cache
def stage_digest(stage: str) -> str:
    return stage_closure(stage).digest()


@functools.cache
def surrogate_digest(model: str) -> str:
    return surrogate_closure(model).digest()


@functools.cache
def figure_digest(kind: str) -> str:
    return figure_closure(kind).digest()
