"""The figure registry (ncrepro.figures): read from the paper modules without importing them, equal to
what they define, equal to the schema's kinds; paper modules keep to their own paper."""

import ast
import subprocess
import sys
from pathlib import Path

import yaml

from ncrepro import figures
from ncrepro.config import load_file

ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = ROOT / "src" / "ncrepro" / "figures"
# Each figure module's paper, and the surrogate modules of each paper.
PAPER_OF = {
    "pfc": "pfc",
    "pfc_surrogates": "pfc",
    "perturb": "perturb",
    "perturb_weight_decay": "perturb",
    "ulpm": "ulpm",
    "review": "review",
    "review_features": "review",
    "review_transfer": "review",
    "review_datasets": "review",
    "dufm": "dufm",
    "dufm_solutions": "dufm",
    "dufm_network": "dufm",
}
SURROGATES_OF = {"pfc": {"mufm", "geodesic"}, "perturb": {"perturb"}, "ulpm": {"ulpm"}, "dufm": {"dufm", "dufm_runs"}}
SURROGATES_OF["review"] = {"mixon"}


def test_the_registry_equals_the_kinds_the_modules_define():
    registry = figures.registry()
    assert {entry.module for entry in registry.values()} == set(PAPER_OF)
    for name, entry in registry.items():
        kind = figures.kind(name)
        assert entry.reads == kind.reads, name
        assert {kind.data.__name__, kind.plot.__name__} <= set(entry.uses), name
        assert set(kind.reads) <= set(figures.INPUTS)


def test_the_schemas_kind_enum_equals_the_registry_and_every_paper_figure_names_a_kind():
    schema = yaml.safe_load((ROOT / "src" / "ncrepro" / "schemas" / "paper.schema.yaml").read_text())
    enum = schema["properties"]["figures"]["additionalProperties"]["properties"]["kind"]["enum"]
    assert sorted(enum) == sorted(figures.registry())
    used = {fig.kind for fig in load_file(scale="paper").figures.values() if fig.implemented}
    assert used == set(figures.registry())  # no kind without a figure


def test_the_registry_loads_no_plotting_library():
    code = "import sys; from ncrepro import figures; figures.registry(); sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in a figure module, relative ones resolved from ncrepro.figures."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ["ncrepro", "figures"][: 2 - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_a_paper_module_uses_no_other_papers_code_and_no_private_names():
    for module, paper in PAPER_OF.items():
        for imported, names in imports(FIGURES_DIR / f"{module}.py"):
            where = f"figures/{module}.py imports {imported} {names}"
            assert imported not in {"ncrepro.stages", "ncrepro.cli", "ncrepro.report", "ncrepro.results"}, where
            if imported.startswith("ncrepro.figures."):
                other = imported.rsplit(".", 1)[1]
                assert other in ("common", "style") or PAPER_OF.get(other) == paper, where
            if imported.startswith("ncrepro.surrogates."):
                assert imported.rsplit(".", 1)[1] in SURROGATES_OF[paper], where
            if imported.startswith("ncrepro"):
                assert not [n for n in names if n.startswith("_")], where


def test_the_figure_command_and_rule_pass_every_input_a_kind_may_read(tmp_path):
    """Each of figures.INPUTS is a flag of `ncrepro figure` and is passed by the figure rule."""
    from ncrepro.cli import build_parser

    flags = {name: f"--{name.replace('_', '-')}" for name in figures.INPUTS}
    spec = tmp_path / "spec.json"
    spec.write_text("{}")
    required = ["--kind", "k", "--pdf", "p", "--figdata", "f", "--claims", "c", "--spec", str(spec)]
    args = build_parser().parse_args(["figure", *required, *[x for flag in flags.values() for x in (flag, "in")]])
    assert {name: getattr(args, name) for name in flags} == {name: ["in"] for name in flags}
    rule = (ROOT / "workflow" / "rules" / "figures.smk").read_text()
    assert [name for name, flag in flags.items() if f"{flag} {{input.{name}}}" not in rule] == []
