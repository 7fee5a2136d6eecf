"""Code provenance (ncrepro.provenance): each job's digest covers exactly the code it runs, derived from
the code itself, over syntax trees without docstrings."""

import ast
import shutil
import subprocess
import sys

import pytest

from ncrepro import provenance
from ncrepro.provenance import kind_entries as registry

MODELS = sorted(provenance.literal_table("ncrepro.surrogates", "SOLVERS"))


@pytest.fixture
def pkg(tmp_path):
    """A copy of the package to edit."""
    path = tmp_path / "ncrepro"
    shutil.copytree(provenance.PACKAGE_DIR, path, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return path


def digests(pkg) -> dict[str, str]:
    """Every job's digest over the package at ``pkg``: stages, surrogate models, figure kinds."""
    out = {f"stage:{s}": provenance.stage_closure(s, pkg).digest() for s in ("stage_data", "train", "stats", "metrics")}
    out |= {f"surrogate:{m}": provenance.surrogate_closure(m, pkg).digest() for m in MODELS}
    out |= {f"figure:{k}": provenance.figure_closure(k, pkg).digest() for k in registry(pkg)}
    return out


def changed(before: dict, pkg) -> set[str]:
    after = digests(pkg)
    return {job for job in before if before[job] != after[job]}


def edit(path, old: str, new: str) -> None:
    """Replace the first ``old`` by ``new`` in ``path``."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


BUILD_MODEL_LINE = '    arch = model["arch"]\n'  # a line of models.build_model
SNC_TABLE_LINE = "    pairs = [(e, s) for e in epsilons for s in seeds]\n"


def test_documentation_edits_rerun_nothing_and_a_constant_reruns_what_uses_it(pkg):
    before = digests(pkg)
    train_py = pkg / "train.py"
    text = train_py.read_text()
    train_py.write_text(text.replace('"""', '"""A docstring edit. ', 1).replace("\nimport", "\n# a comment\nimport", 1))
    edit(pkg / "stats.py", "def collect(", "def collect(  # a comment\n")
    edit(
        pkg / "figures" / "review.py",
        "from .common import (\n    OURS,\n    claim,\n    dataset_label,",
        "from .common import OURS, claim\nfrom .common import (\n    dataset_label,",
    )
    assert changed(before, pkg) == set()  # nor does the layout of imports
    edit(pkg / "stats.py", "CHUNK_BYTES = 64 << 20", "CHUNK_BYTES = 32 << 20")
    assert changed(before, pkg) == {
        "stage:stats",
        "surrogate:dufm_search",
        "surrogate:dufm_small_k",
        "surrogate:dufm_trajectory",
        "surrogate:mufm_collapse",
        "surrogate:mufm_tradeoff",
        "surrogate:pfc_illustration",
        "surrogate:ulpm_dynamics",
        "figure:pfc_illustration",
    }  # the jobs that measure features with the statistics engine (metrics.collapse_metrics)


def test_editing_models_reruns_training_statistics_and_table_one_only(pkg):
    before = digests(pkg)
    edit(pkg / "models.py", "import math", "import math\n\nUNUSED_BY_ANYONE = 1")
    assert changed(before, pkg) == set()  # a new definition nothing uses
    edit(pkg / "models.py", BUILD_MODEL_LINE, BUILD_MODEL_LINE + "    _edit = 1\n")
    assert changed(before, pkg) == {"stage:train", "stage:stats", "figure:pfc_table"}


def test_editing_a_paper_module_reruns_that_papers_figures_only(pkg):
    before = digests(pkg)
    edit(pkg / "figures" / "dufm_solutions.py", "SQUARE_TOL = 0.1", "SQUARE_TOL = 0.2")
    assert changed(before, pkg) == {"figure:dufm_small_k"}
    edit(pkg / "figures" / "dufm.py", "def matrix(table", "def matrix(table_")
    edit(
        pkg / "figures" / "dufm.py",
        'rows = table[(table.metric == "matrix")',
        'rows = table_[(table_.metric == "matrix")',
    )
    assert changed(before, pkg) == {"figure:dufm_small_k", "figure:dufm_solution", "figure:dufm_training"}
    edit(pkg / "figures" / "style.py", '"grid.alpha": 0.3', '"grid.alpha": 0.4')  # a statement run on import
    assert changed(before, pkg) == {f"figure:{kind}" for kind in registry(pkg)}


def test_editing_one_solver_reruns_that_solve_only_and_a_new_model_reruns_nothing(pkg):
    before = digests(pkg)
    edit(pkg / "surrogates" / "mixon.py", SNC_TABLE_LINE, SNC_TABLE_LINE + "    _edit = 1\n")
    assert changed(before, pkg) == {"surrogate:mixon_snc"}
    before = digests(pkg)
    new_model = '"mixon_snc_copy": ("ncrepro.surrogates.mixon", "snc_table"),\n    "mixon_snc": '
    edit(pkg / "surrogates" / "__init__.py", '"mixon_snc": ', new_model)
    assert changed(before, pkg) == set()  # the dispatch table itself counts for no solve


def test_a_new_function_level_import_extends_the_digest(pkg):
    """A figure kind that starts to import another module (inside a function) covers that module."""
    before = digests(pkg)
    line = "    last = table[table.step == table.step.max()]"
    edit(pkg / "figures" / "review.py", line, "    from ..models import build_model\n\n    assert build_model\n" + line)
    assert changed(before, pkg) == {"figure:snc_errors"}
    before = digests(pkg)
    edit(pkg / "models.py", BUILD_MODEL_LINE, BUILD_MODEL_LINE + "    _edit = 1\n")
    assert "figure:snc_errors" in changed(before, pkg)


def test_the_closure_follows_module_objects_attributes_and_package_preambles():
    figure = provenance.figure_closure("pfc_dynamics")
    assert {
        "ncrepro.stages",
        "ncrepro.figures.catalogue",
        "ncrepro.figures.pfc",
        "ncrepro.figures.style",
    } <= figure.module_names()
    assert not {"ncrepro.models", "ncrepro.data", "ncrepro.train"} & figure.module_names()
    table = provenance.figure_closure("pfc_table").module_names()
    assert "ncrepro.models" in table and "ncrepro.data" not in table  # the datasets come in the figure's metadata
    stats = provenance.stage_closure("stats").module_names()
    assert {"ncrepro.stats", "ncrepro.models", "ncrepro.train", "ncrepro.data"} <= stats
    assert "ncrepro.metrics" not in stats
    assert "ncrepro.surrogates.mixon" in provenance.surrogate_closure("mixon_snc").module_names()
    assert "ncrepro.surrogates.dufm" not in provenance.surrogate_closure("mixon_snc").module_names()
    reexport = provenance.Closure().add("ncrepro.train", ("TrainingDiverged",))  # train re-exports errors'
    assert reexport.module_names() == {"ncrepro.errors"}


def test_the_only_dynamic_import_is_the_surrogate_solver_table():
    """A dynamic import would be invisible to the closure: only the surrogate solver table may import by
    name (an entry point of the digests); the figure catalogue imports its modules."""
    found = set()
    for path in provenance.PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "import_module"
                or (isinstance(node, ast.Name) and node.id == "__import__")
            ):
                found.add(str(path.relative_to(provenance.PACKAGE_DIR)))
    assert found == {"surrogates/__init__.py"}


def test_digests_are_stable_across_processes():
    code = "from ncrepro import provenance as p; print(p.figure_digest('pfc_depth'), p.stage_digest('train'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [provenance.figure_digest("pfc_depth"), provenance.stage_digest("train")]
