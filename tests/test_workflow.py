"""The workflow itself: real Snakemake runs on a copy of the repository's workflow and config."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import with_pending_figure

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def workdir(tmp: Path) -> Path:
    for name in ("Snakefile", "workflow", "config", "profiles"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp / name)
    return tmp


def snakemake(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    proc = subprocess.run([str(BIN / "snakemake"), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def only_specs(wd: Path) -> bool:
    """Nothing under results/ but the spec files of the jobs a run planned (ncrepro.specs): no job ran."""
    return all(p.relative_to(wd / "results").parts[1] == "specs" for p in (wd / "results").rglob("*") if p.is_file())


MAX_ARGUMENT = 100_000  # bytes; Linux refuses one argument of 128 KiB or more ("Argument list too long")


@pytest.mark.parametrize(
    "scale", ["paper", pytest.param("quick", marks=pytest.mark.slow), pytest.param("smoke", marks=pytest.mark.slow)]
)
def test_no_job_of_any_figure_gets_an_argument_linux_refuses(tmp_path, scale):
    """Every job of every figure, its shell line as Snakemake runs it: no single argument reaches
    MAX_ARGUMENT (a paper-scale figure's resolved spec did, 395,906 characters for Review Fig. 5); figures,
    trainings and solves read their spec from a file (results/<scale>/specs/<what>/<name>.json)."""
    import shlex

    out = snakemake(workdir(tmp_path), "-n", "-p", "--config", f"scale={scale}").stdout
    commands = [line.strip().removeprefix("Shell command: ") for line in out.splitlines()]
    commands = [c for c in commands if c.startswith("python -m ncrepro.cli")]
    for stage, specs in (("figure", "figures"), ("train", "settings"), ("surrogate", "surrogates")):
        jobs = [c for c in commands if c.startswith(f"python -m ncrepro.cli {stage} ")]
        assert jobs and all(f"results/{scale}/specs/{specs}/" in c for c in jobs), stage
    longest = max((len(a), a[:60]) for c in commands for a in shlex.split(c))
    assert longest[0] < MAX_ARGUMENT, longest


@pytest.mark.slow
def test_a_venvs_snakemake_runs_its_jobs_without_the_venv_activated(tmp_path):
    """`.venv/bin/snakemake ...` from a shell whose PATH lacks the venv: the jobs run the interpreter
    Snakemake runs in, not a `python` without the project's packages."""
    wd = workdir(tmp_path)
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "PATH": "/usr/bin:/bin"}
    args = [str(BIN / "snakemake"), "--cores", "1", "figures/pfc_fig1.pdf", "--config", "scale=smoke"]
    proc = subprocess.run(args, cwd=wd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (wd / "results/smoke/claims/pfc_fig1.json").exists()


def job_counts(output: str) -> dict[str, int]:
    counts, in_table = {}, False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if parts and parts[0] == "total":
                break
            if len(parts) == 2 and parts[1].isdigit():
                counts[parts[0]] = int(parts[1])
    return counts


def test_paper_scale_dry_run_shows_the_whole_chain(tmp_path):
    wd = workdir(tmp_path)
    out = snakemake(wd, "-n", "-p", "--cores", "1", "figures/pfc_cifar10.pdf")
    counts = job_counts(out.stdout + out.stderr)
    assert counts["stage_data"] == 1 and counts["train"] == 1 and counts["metrics"] == 1
    assert counts["figure"] == 1 and counts["publish_figure"] == 1
    assert counts["stats"] == 1  # one job per run: its 47 checkpoints (config/papers/pfc.yaml)
    epochs = (out.stdout + out.stderr).split("--epochs ", 1)[1].split(" --data", 1)[0].split()
    assert len(epochs) == 47 and epochs[:4] == ["0", "1", "2", "3"] and epochs[-1] == "350"
    assert only_specs(wd)


def test_paper_scale_dry_run_of_every_implemented_figure(tmp_path):
    """The DAG of every implemented figure at paper scale (the papers' settings) builds; the perturbation
    Figs. 3-5 alone train 70 networks (10 weight-decay x loss variants, 3 seeds where Table 1 needs them)."""
    from ncrepro.config import load_file

    wd = workdir(tmp_path)
    ids = load_file(scale="paper").implemented_figures()
    out = snakemake(wd, "-n", "--cores", "2", *[f"figures/{f}.pdf" for f in ids])
    counts = job_counts(out.stdout + out.stderr)
    assert counts["publish_figure"] == len(ids) and counts["figure"] == len(ids)
    perturb = snakemake(wd, "-n", "--cores", "2", *[f"figures/perturb_fig{i}.pdf" for i in (3, 4, 5)])
    assert job_counts(perturb.stdout + perturb.stderr)["train"] == 70


def test_a_figure_that_reads_test_metrics_measures_each_run_on_the_test_split(tmp_path):
    """Review Fig. 7 reads test accuracy: one test-split statistics job and metric table per run (at smoke
    scale its MNIST and CIFAR10 rows are one recipe on digits: three runs for six settings)."""
    wd = workdir(tmp_path)
    out = snakemake(wd, "-n", "-p", "--cores", "1", "figures/review_fig7.pdf", "--config", "scale=smoke")
    counts = job_counts(out.stdout + out.stderr)
    assert counts["train"] == counts["stats"] == counts["stats_test"] == counts["metrics_test"] == 3, counts
    assert "--split-data resources/data/digits/test.pt --split test" in out.stdout + out.stderr


def test_settings_of_one_recipe_share_their_runs_and_each_figure_reads_them_under_its_own_names(tmp_path):
    """At smoke scale ULPM's VGG13 rows of CIFAR10, MNIST, KMNIST and Fashion-MNIST are one recipe on
    digits: one training (CIFAR10's, first by name), read by Figs. 4, 5 and 7 under their own names."""
    wd = workdir(tmp_path)
    figs = ["figures/ulpm_fig4.pdf", "figures/ulpm_fig5.pdf", "figures/ulpm_fig7.pdf"]
    out = snakemake(wd, "-n", "-p", "--cores", "1", *figs, "--config", "scale=smoke")
    text = out.stdout + out.stderr
    assert job_counts(text)["train"] == 1 and job_counts(text)["figure"] == 3, job_counts(text)
    assert "results/smoke/train/ulpm_vgg13_cifar10/seed0" in text and "train/ulpm_vgg13_mnist/" not in text
    for name in ("ulpm_vgg13_mnist", "ulpm_vgg13_kmnist", "ulpm_vgg13_fashionmnist"):
        assert f"--runs {name}" in text


def test_batched_surrogate_solves_take_the_configured_threads_the_others_one(tmp_path):
    """DUFM sweeps are batched over runs (results independent of the thread count): they take `threads`;
    a closed-form solve takes one."""
    wd = workdir(tmp_path)
    out = snakemake(wd, "-n", "-p", "--cores", "2", "figures/dufm_fig3.pdf", "--config", "threads=2")
    found = re.findall(r"--out results/paper/surrogates/(\w+)\.parquet --threads (\d+)", out.stdout + out.stderr)
    assert dict(found) == {"dufm_loss_ratio": "1", "dufm_rank_vs_weight_decay": "2", "dufm_dnc_vs_width": "2"}


def test_offline_paper_run_stops_at_the_data_stage_with_instructions(tmp_path):
    wd = workdir(tmp_path)
    proc = snakemake(
        wd,
        "--cores",
        "1",
        "figures/pfc_cifar10.pdf",
        "--config",
        "data={root: resources/data, download: false}",
        check=False,
    )
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "Error in rule stage_data" in text
    assert "pre-stage cifar10" in text and "NCREPRO_PRESTAGED_CIFAR10" in text
    assert only_specs(wd)


def staged(output: str) -> list[str]:
    """The datasets a dry run (-p) plans to stage."""
    return sorted(set(re.findall(r"ncrepro\.cli data --dataset (\w+)", output)))


@pytest.mark.parametrize(
    "figure,own,stand_ins",
    [
        ("pfc_cifar10", ["cifar10"], ["fashionmnist"]),
        ("perturb_fig6", ["mnist"], ["digits"]),
        ("dufm_fig4", ["cifar10", "mnist"], ["digits", "fashionmnist"]),
    ],
)
def test_quick_scale_stages_the_papers_datasets_and_the_offline_layer_its_stand_ins(tmp_path, figure, own, stand_ins):
    wd = workdir(tmp_path)
    quick = snakemake(wd, "-n", "-p", "--cores", "1", f"figures/{figure}.pdf", "--config", "scale=quick")
    assert staged(quick.stdout + quick.stderr) == own
    layered = ["--configfile", "config/config.yaml", "config/offline.yaml"]
    offline = snakemake(wd, "-n", "-p", "--cores", "1", f"figures/{figure}.pdf", *layered, "--config", "scale=quick")
    assert staged(offline.stdout + offline.stderr) == stand_ins
    assert only_specs(wd)


def test_command_line_values_and_figure_ids_are_read_as_a_user_means_them(tmp_path):
    """A nested `--config` number given as text is read as a number; a misspelt or pending figure id
    answers in one line with the closest ids, and nothing runs."""
    wd = workdir(tmp_path)
    pending = "review_fig5"
    with_pending_figure(wd / "config", pending)
    lr = "overrides={settings: {pfc_fashionmnist: {train: {lr: 0.02}}}}"
    planned = snakemake(wd, "-n", "--cores", "1", "figures/pfc_fashionmnist.pdf", "--config", "scale=smoke", lr)
    assert job_counts(planned.stdout + planned.stderr)["train"] == 1
    for target, line in (
        ("pfc_cifar11", "ncrepro: unknown figure id 'pfc_cifar11'; did you mean pfc_cifar10, pfc_cifar100,"),
        (pending, f"ncrepro: figure '{pending}' is pending"),
    ):
        proc = snakemake(wd, "-n", "--cores", "1", f"figures/{target}.pdf", check=False)
        assert proc.returncode != 0 and [x for x in proc.stderr.splitlines() if x.startswith("ncrepro:")][0].startswith(
            line
        ), proc.stderr[-1000:]
    assert only_specs(wd) and not (wd / "figures").exists()


def test_bad_config_is_one_line_and_writes_nothing(tmp_path):
    wd = workdir(tmp_path)
    proc = snakemake(wd, "-n", "--cores", "1", "--config", "scale=tiny", check=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "ncrepro: config error" in line]
    assert lines == ["ncrepro: config error: config: scale: 'tiny' is not one of ['paper', 'quick', 'smoke']"]
    assert only_specs(wd) and not (wd / "figures").exists()


def test_paper_table_one_is_regenerated_from_the_built_models(tmp_path):
    """pfc_table1 needs no data or training: it builds the paper-scale models and checks Table I."""
    wd = workdir(tmp_path)
    snakemake(wd, "--cores", "1", "figures/pfc_table1.pdf")
    claims = json.loads((wd / "results" / "paper" / "claims" / "pfc_table1.json").read_text())
    assert len(claims) == 10 and all(c["passed"] for c in claims), claims
    table = (wd / "results" / "paper" / "figures" / "pfc_table1.md").read_text()
    assert (
        "| STL10 | 3x96x96 | 4 | 64x48x48 / 128x24x24 / 256x12x12 / 512x6x6 | 5 / 5 / 5 / 5 | Conv | 18,432 | 6 |"
        in table
    )
    assert (wd / "figures" / "pfc_table1.pdf").read_bytes()[:4] == b"%PDF"


def test_list_figures(tmp_path):
    wd = workdir(tmp_path)
    out = snakemake(wd, "--cores", "1", "list_figures")
    text = out.stdout + out.stderr
    assert "pfc_fashionmnist" in text and "review_fig5" in text and "dufm_fig3" in text and "pending" not in text


@pytest.mark.slow
def test_smoke_slice_end_to_end(tmp_path):
    """The PFC Fashion-MNIST slice at smoke scale: dataset -> train -> stats -> metrics -> figures."""
    wd = workdir(tmp_path)
    targets = ["figures/pfc_fashionmnist.pdf", "figures/pfc_fashionmnist_depth.pdf"]
    snakemake(wd, "--cores", "2", *targets, "--config", "scale=smoke")
    for fig in ("pfc_fashionmnist", "pfc_fashionmnist_depth"):
        assert (wd / "figures" / f"{fig}.pdf").read_bytes()[:4] == b"%PDF"
        table = pd.read_parquet(wd / "results" / "smoke" / "figdata" / f"{fig}.parquet")
        assert {"metric", "value", "layer", "epoch"} <= set(table.columns)
        claims = json.loads((wd / "results" / "smoke" / "claims" / f"{fig}.json").read_text())
        keys = {"claim", "passed", "status", "source", "value", "expected"}
        assert claims and all(keys <= set(c) <= keys | {"note", "would_be"} for c in claims)
        gated = [c for c in claims if c["status"] in ("not_converged", "premise_unmet", "within_noise")]
        assert all(c.get("would_be", "absent") in ("passed", "failed", None) for c in gated)
        assert all("would_be" not in c for c in claims if c not in gated)
        assert all(c["passed"] == (c["status"] == "passed") and c["source"] for c in claims)
    depth = json.loads((wd / "results" / "smoke" / "claims" / "pfc_fashionmnist_depth.json").read_text())
    through = [c for c in depth if c["claim"].startswith("prediction passes through")]
    assert through and through[0]["passed"], through
    # nothing to do after a build
    again = snakemake(wd, "-n", "--cores", "2", *targets, "--config", "scale=smoke")
    assert "Nothing to be done" in again.stdout + again.stderr
    # switching scale leaves the smoke results in place and plans a rebuild of the figure
    other = snakemake(wd, "-n", "--cores", "2", targets[0], "--config", "scale=quick")
    assert job_counts(other.stdout + other.stderr).get("publish_figure") == 1
    assert (wd / "results" / "smoke" / "figdata" / "pfc_fashionmnist.parquet").exists()


TINY = """
overrides:
  settings:
    pfc_fashionmnist:
      data: {per_class: 20, shape: [1, 8, 8]}
      model:
        stem_stride: 1
        stages: [{channels: 4, blocks: 1}, {channels: 4, blocks: 2}]
      train: {epochs: 4, milestones: [2], batch_size: 32}
      checkpoints: [0, 2, 4]
"""


@pytest.mark.slow
def test_editing_code_reruns_the_jobs_that_run_it_and_documentation_reruns_nothing(tmp_path):
    """Code provenance (ncrepro.provenance): rules carry a digest of the code they run."""
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "src" / "ncrepro", pkg / "ncrepro")  # laid out as installed (pyproject)
    shutil.copytree(ROOT / "config", pkg / "ncrepro" / "_config")
    (wd / "tiny.yaml").write_text(TINY)
    env = dict(os.environ, PYTHONPATH=str(pkg), PATH=f"{BIN}:{os.environ['PATH']}")
    args = [
        "--cores",
        "2",
        "figures/pfc_fashionmnist.pdf",
        "--configfile",
        "config/config.yaml",
        "tiny.yaml",
        "--config",
        "scale=smoke",
    ]

    def run(*extra):
        proc = subprocess.run([str(BIN / "snakemake"), *args, *extra], cwd=wd, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout + proc.stderr

    run()
    assert "Nothing to be done" in run("-n")
    pfc_py = pkg / "ncrepro" / "figures" / "pfc.py"
    original = pfc_py.read_text()
    pfc_py.write_text(original.replace('"""', '"""An edited docstring. ', 1) + "\n# an edit\n")
    assert "Nothing to be done" in run("-n")
    pfc_py.write_text(original.replace('"pfc3": False}', '"pfc3": True}', 1))
    assert job_counts(run("-n")) == {"figure": 1, "publish_figure": 1}
    pfc_py.write_text(original)
    assert "Nothing to be done" in run("-n")
    stats_py = pkg / "ncrepro" / "stats.py"
    stats_py.write_text(stats_py.read_text().replace("CHUNK_BYTES = 64 << 20", "CHUNK_BYTES = 32 << 20"))
    assert job_counts(run("-n")) == {"stats": 1, "metrics": 1, "figure": 1, "publish_figure": 1}


OWN_DATA = """
data:
  custom:
    mine: {path: PATH}
overrides:
  settings:
    pfc_fashionmnist:
      data: {dataset: mine, per_class: 20, shape: [1, 8, 8]}
      model:
        stem_stride: 1
        stages: [{channels: 4, blocks: 1}, {channels: 4, blocks: 2}]
      train: {epochs: 4, milestones: [2], batch_size: 32}
      checkpoints: [0, 2, 4]
"""


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["npz", "folder"])
def test_a_pfc_figure_from_your_own_data(tmp_path, layout):
    """PFC Fig. 2(b)'s row trained on a user's dataset, an .npz or an image-folder tree: staged, trained,
    measured and drawn, the footer naming it; a changed file restages it and reruns what it made."""
    from PIL import Image

    from ncrepro.figures.style import footer_text
    from ncrepro.io import parquet_metadata

    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    rng = np.random.default_rng(0)
    y = {"train": np.repeat(np.arange(3), 25), "test": np.repeat(np.arange(3), 5)}
    x = {
        s: np.clip(rng.normal(50 + 60 * y[s][:, None, None], 25, (len(y[s]), 8, 8)), 0, 255).astype(np.uint8) for s in y
    }
    if layout == "npz":
        path = tmp_path / "mine.npz"
        np.savez(path, x_train=x["train"], y_train=y["train"], x_test=x["test"], y_test=y["test"])
    else:
        path = tmp_path / "mine"
        for split in y:
            for i, (image, label) in enumerate(zip(x[split], y[split], strict=True)):
                (path / split / f"class{label}").mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(path / split / f"class{label}" / f"{i:03d}.png")
    (wd / "mine.yaml").write_text(OWN_DATA.replace("PATH", str(path)))
    args = ["--cores", "2", "figures/pfc_fashionmnist.pdf", "--configfile", "config/config.yaml", "mine.yaml"]
    args += ["--config", "scale=smoke"]
    snakemake(wd, *args)
    assert (wd / "figures" / "pfc_fashionmnist.pdf").read_bytes()[:4] == b"%PDF"
    meta = parquet_metadata(wd / "results" / "smoke" / "figdata" / "pfc_fashionmnist.parquet")
    assert meta["datasets"] == {"mine": {"num_classes": 3, "shape": [1, 8, 8], "custom": True}}
    assert "mine (your data, in place of Fashion-MNIST) (20/class, 1x8x8, train split)" in footer_text(meta)
    assert json.loads((wd / "results" / "smoke" / "claims" / "pfc_fashionmnist.json").read_text())
    manifest = json.loads(
        (wd / "results" / "smoke" / "train" / "pfc_fashionmnist" / "seed0" / "manifest.json").read_text()
    )
    cached = torch.load(wd / "resources" / "data" / "mine" / "train.pt", weights_only=False)
    assert manifest["data_digest"] == cached["digest"]
    assert "Nothing to be done" in (lambda p: p.stdout + p.stderr)(snakemake(wd, "-n", *args))
    if layout == "npz":
        x["train"][0, 0, 0] ^= 1
        np.savez(path, x_train=x["train"], y_train=y["train"], x_test=x["test"], y_test=y["test"])
        counts = job_counts((lambda p: p.stdout + p.stderr)(snakemake(wd, "-n", *args)))
        assert counts["stage_data"] == 1 and counts["train"] == 1 and counts["figure"] == 1


TINY_MNIST = """
    pfc_mnist:
      data: {per_class: 20, shape: [1, 8, 8]}
      model: {width: 8, blocks: 1}
      train: {epochs: 4, milestones: [2], batch_size: 32}
      checkpoints: [0, 2, 4]
"""


def planned(output: str) -> tuple[dict[str, int], set[str]]:
    """Job counts of a dry run, and the wildcard values its jobs name (settings and figures)."""
    names = set()
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("wildcards:"):
            for part in line.removeprefix("wildcards:").split(","):
                key, _, value = part.strip().partition("=")
                if key in ("setting", "figure"):
                    names.add(value)
    return job_counts(output), names


@pytest.mark.slow
def test_a_change_reruns_exactly_what_it_made_stale(tmp_path):
    """After a build nothing is stale; a plotting option of one figure reruns only that figure (not its
    data); one training hyperparameter of one setting reruns only that setting's chain."""
    wd = workdir(tmp_path)
    (wd / "tiny.yaml").write_text(TINY + TINY_MNIST)
    targets = ["figures/pfc_fashionmnist.pdf", "figures/pfc_mnist.pdf"]
    base = ["--cores", "2", *targets, "--configfile", "config/config.yaml", "tiny.yaml"]

    def run(*extra, dry=False):
        out = snakemake(wd, *(["-n"] if dry else []), *base, *extra, "--config", "scale=smoke")
        return out.stdout + out.stderr

    run()
    assert "Nothing to be done" in run(dry=True)

    (wd / "plot.yaml").write_text("overrides:\n  figures:\n    pfc_mnist:\n      plot: {font_size: 12}\n")
    counts, names = planned(run("plot.yaml", dry=True))
    assert counts == {"figure": 1, "publish_figure": 1} and names == {"pfc_mnist"}
    before = pd.read_parquet(wd / "results" / "smoke" / "figdata" / "pfc_mnist.parquet")
    untouched = (wd / "figures" / "pfc_fashionmnist.pdf").stat().st_mtime_ns
    run("plot.yaml")
    pd.testing.assert_frame_equal(pd.read_parquet(wd / "results" / "smoke" / "figdata" / "pfc_mnist.parquet"), before)
    assert (wd / "figures" / "pfc_fashionmnist.pdf").stat().st_mtime_ns == untouched
    assert "Nothing to be done" in run("plot.yaml", dry=True)

    (wd / "lr.yaml").write_text("overrides:\n  settings:\n    pfc_fashionmnist:\n      train: {lr: 0.02}\n")
    counts, names = planned(run("plot.yaml", "lr.yaml", dry=True))
    assert counts == {"train": 1, "stats": 1, "metrics": 1, "figure": 1, "publish_figure": 1}
    assert names == {"pfc_fashionmnist"}


@pytest.mark.slow
def test_fault_drills_corrupt_files_are_rebuilt_and_divergence_makes_no_figure(tmp_path):
    """A truncated statistics file is never read: the metrics job fails naming it and the rebuild
    command (Snakemake does not rebuild an intermediate file under an up-to-date target by itself, and
    its input checksums keep an mtime change from doing so), which rebuilds it and everything after it,
    equal to the first build. A truncated checkpoint fails the statistics job the same way, and the
    forced rerun of its training run retrains it, bit-identical. A diverging training fails with a
    clear message and leaves no figure."""
    wd = workdir(tmp_path)
    (wd / "tiny.yaml").write_text(TINY)
    args = ["--cores", "2", "figures/pfc_fashionmnist.pdf", "--configfile", "config/config.yaml", "tiny.yaml"]
    smoke = ["--config", "scale=smoke"]
    snakemake(wd, *args, *smoke)
    run_dir = wd / "results" / "smoke"
    metrics = run_dir / "metrics" / "pfc_fashionmnist" / "seed0" / "metrics.parquet"
    first = pd.read_parquet(metrics)

    def fails_then_rebuilds(corrupt: Path, message: str, rebuild: Path, *trigger: str) -> None:
        corrupt.write_bytes(corrupt.read_bytes()[:300])
        failed = snakemake(wd, *args, *smoke, *trigger, check=False)
        text = failed.stdout + failed.stderr
        assert failed.returncode != 0 and message in text and f"--forcerun {rebuild.relative_to(wd)}" in text
        snakemake(wd, *args, *smoke, "--forcerun", str(rebuild.relative_to(wd)))
        pd.testing.assert_frame_equal(pd.read_parquet(metrics), first)

    stats = run_dir / "stats" / "pfc_fashionmnist" / "seed0"  # the run's statistics (one job)
    # a file inside the run's statistics directory changes no mtime Snakemake watches: the damage is
    # found when the metrics are next computed (forced here)
    rel_metrics = str(metrics.relative_to(wd))
    fails_then_rebuilds(stats / "epoch2.npz", "truncated stats file", stats, "--forcerun", rel_metrics)
    run = run_dir / "train" / "pfc_fashionmnist" / "seed0"
    # the statistics recomputed (forced) read the truncated checkpoint
    rel_stats = str(stats.relative_to(wd))
    fails_then_rebuilds(
        run / "ckpt" / "epoch0002.pt", "does not match its manifest", run / "manifest.json", "-R", rel_stats
    )

    (wd / "diverge.yaml").write_text("overrides:\n  settings:\n    pfc_mnist:\n      train: {lr: 1.0e+12}\n")
    (wd / "tiny.yaml").write_text(TINY + TINY_MNIST)
    diverging = [*args[:2], "figures/pfc_mnist.pdf", *args[3:], "diverge.yaml", *smoke]
    failed = snakemake(wd, *diverging, check=False)
    assert failed.returncode != 0 and "lower the learning rate" in failed.stdout + failed.stderr
    assert not (wd / "figures" / "pfc_mnist.pdf").exists() and not (run_dir / "figdata" / "pfc_mnist.parquet").exists()


@pytest.mark.slow
def test_snakemakes_report_shows_every_built_figure_with_its_caption_and_claims(tmp_path):
    """`snakemake --report report.zip` (make report): each figure's PDF, figure data and claims table,
    grouped by paper and scale, captioned with the paper's number and caption, the scale and the data,
    labelled with the claims' counts."""
    import zipfile

    wd = workdir(tmp_path)
    targets = ["figures/perturb_fig1.pdf", "figures/pfc_fig1.pdf"]
    snakemake(wd, "--cores", "1", *targets, "--config", "scale=smoke")
    snakemake(wd, "--cores", "1", *targets, "--config", "scale=smoke", "--report", "report.zip")
    with zipfile.ZipFile(wd / "report.zip") as z:
        names = z.namelist()
        text = "".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith((".html", ".js")))
    for fig in ("perturb_fig1", "pfc_fig1"):
        for item in (f"{fig}.pdf", f"{fig}.parquet", f"{fig}.tsv"):
            assert any(n.endswith(item) for n in names), (item, names)
        claims = json.loads((wd / "results" / "smoke" / "claims" / f"{fig}.json").read_text())
        table = (wd / "results" / "smoke" / "claims" / f"{fig}.tsv").read_text().splitlines()
        assert [row.split("\t")[0] for row in table[1:]] == [c["status"] for c in claims]
    assert "Progressive Feedforward Collapse" in text and "Perturbation Analysis of Neural Collapse" in text
    assert "scale=smoke" in text and "Illustration of uniform straight-line motion" in text
