"""The figure catalogue (ncrepro.figures.catalogue): every paper module's kinds, equal to what the source
declares and to the schema's kinds, without a plotting library; paper modules keep to their own paper."""

import ast
import subprocess
import sys
from pathlib import Path

import yaml

from ncrepro.config import load_file
from ncrepro.figures import INPUTS
from ncrepro.figures.catalogue import KINDS, PAPER_MODULES
from ncrepro.provenance import kind_entries

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


def test_the_catalogue_holds_every_paper_modules_kinds_as_the_source_declares_them():
    """The catalogue imports every paper module; the digests' reading of the source finds the same kinds in
    the same modules, naming the kinds' own functions."""
    entries = kind_entries()
    assert {module.__name__.rsplit(".", 1)[1] for module in PAPER_MODULES} == set(PAPER_OF)
    assert set(entries) == set(KINDS)
    for name, kind in KINDS.items():
        module, uses = entries[name]
        assert kind.plot.__module__ == f"ncrepro.figures.{module}", name
        assert {kind.data.__name__, kind.plot.__name__} <= set(uses), name
        assert set(kind.reads) <= set(INPUTS)


def test_the_schemas_kind_enum_equals_the_catalogue_and_every_paper_figure_names_a_kind():
    schema = yaml.safe_load((ROOT / "src" / "ncrepro" / "schemas" / "paper.schema.yaml").read_text())
    enum = schema["properties"]["figures"]["additionalProperties"]["properties"]["kind"]["enum"]
    assert sorted(enum) == sorted(KINDS)
    used = {fig.kind for fig in load_file(scale="paper").figures.values() if fig.implemented}
    assert used == set(KINDS)  # no kind without a figure


def test_the_catalogue_loads_no_plotting_library():
    code = "import sys; from ncrepro.figures import catalogue; sys.exit('matplotlib' in sys.modules)"
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
                assert other in ("common", "style", "kind") or PAPER_OF.get(other) == paper, where
            if imported.startswith("ncrepro.surrogates."):
                assert imported.rsplit(".", 1)[1] in SURROGATES_OF[paper], where
            if imported.startswith("ncrepro"):
                assert not [n for n in names if n.startswith("_")], where


def test_the_figure_command_and_rule_pass_every_input_a_kind_may_read(tmp_path):
    """Each of INPUTS is a flag of `ncrepro figure` and is passed by the figure rule."""
    from ncrepro.cli import build_parser
    from ncrepro.commands import shell_line

    flags = {name: f"--{name.replace('_', '-')}" for name in INPUTS}
    spec = tmp_path / "spec.json"
    spec.write_text("{}")
    required = ["--kind", "k", "--pdf", "p", "--figdata", "f", "--claims", "c", "--spec", str(spec)]
    args = build_parser().parse_args(["figure", *required, *[x for flag in flags.values() for x in (flag, "in")]])
    assert {name: getattr(args, name) for name in flags} == {name: ["in"] for name in flags}
    rule = shell_line("figure")
    assert [name for name, flag in flags.items() if f"{flag} {{input.{name}}}" not in rule] == []
