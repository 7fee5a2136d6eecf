"""Review Fig. 5 (ncrepro.figures.review_datasets): the learning rate of each sweep is chosen by the caption's
rule; the claims pass on runs that collapse as Papyan et al.'s do, fail on converged runs that contradict the
review, and are not_converged or premise_unmet where the runs do not warrant a verdict."""

import numpy as np
import pandas as pd
import pytest

from ncrepro.figures import FigureInputs, review_datasets
from ncrepro.figures.common import STATUSES

KIND = review_datasets.KINDS["nc1_datasets_networks"]
PANELS = {
    "mnist": ("vgg11", "resnet18", "densenet40"),
    "cifar10": ("vgg13", "resnet18", "densenet40"),
    "cifar100": ("vgg13", "resnet50", "densenet250"),
}
LRS = (0.01, 0.05, 0.25)
EPOCHS = (0, 10, 50, 100)
PAPYAN_LIKE = {"mnist": 1e-3, "cifar10": 1e-2, "cifar100": 1e-1}  # final NC1 per dataset
RESNET18 = {"arch": "resnet", "widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2]}


def meta(train_on=None, epochs=350) -> dict:
    """Fig. 5's settings of :data:`PANELS` (paper-sized ResNet18 and epochs, whole training sets), each
    trained on its own dataset or on ``train_on`` in its stead."""
    settings = {}
    for ds, nets in PANELS.items():
        for net in nets:
            for i, lr in enumerate(LRS, start=1):
                data = {"dataset": train_on or ds, "per_class": None}
                model = RESNET18 if net == "resnet18" else {"arch": net}
                setting = {"data": data, "model": model, "train": {"lr": lr, "epochs": epochs}}
                settings[f"review_nc1_{ds}_{net}_lr{i}"] = setting | ({"paper_dataset": ds} if train_on else {})
    return {"settings": settings, "scale": "paper"}


def write_runs(tmp_path, final=PAPYAN_LIKE, fits=None, best=1, flat=()) -> FigureInputs:
    """One metrics and one test-metrics table per run: NC1 1 until TPT begins (epoch 10, or ``fits``
    [setting] = None for a run that never fits), then falling to ``final`` [dataset] at epoch 100 (staying
    1 for sweeps in ``flat``); the lr of index ``best`` has the best final test accuracy."""
    metrics, tests, runs = [], [], []
    for name in meta()["settings"]:
        ds, sweep, i = name.split("_")[2], review_datasets.family(name), int(name.rsplit("lr", 1)[1]) - 1
        fit_at = (fits or {}).get(sweep, 10)
        rows, test_rows = [], []
        for epoch in EPOCHS:
            w = max(0.0, (epoch - 10) / 90)
            nc1 = 1.0 if sweep in flat else final[ds] ** w
            acc = 1.0 if fit_at is not None and epoch >= fit_at else 0.5
            base = {"setting": name, "seed": 0, "epoch": epoch, "layer": "penultimate", "layer_index": 0}
            rows += [base | {"metric": "nc1", "value": nc1}, base | {"metric": "classifier_acc", "value": acc}]
            test_rows.append(base | {"metric": "classifier_acc", "value": 0.9 if i == best else 0.8})
        for frame, what in ((rows, metrics), (test_rows, tests)):
            path = tmp_path / f"{name}_{len(what)}_{id(what)}.parquet"
            pd.DataFrame(frame).to_parquet(path)
            what.append(str(path))
        runs.append(name)
    return FigureInputs(metrics=tuple(metrics), metrics_test=tuple(tests), runs=tuple(runs))


def statuses(claims) -> dict[str, str]:
    assert all(c["status"] in STATUSES and c["source"] for c in claims)
    return {c["claim"]: c["status"] for c in claims}


def test_select_takes_the_best_mean_final_test_accuracy_the_smaller_lr_of_equals_and_no_diverged_run():
    def table(accuracies):
        rows = [
            {"sweep": "s", "setting": f"s_lr{i}", "lr": lr, "seed": seed, "epoch": epoch, "split": "test"}
            | {"metric": "classifier_acc", "value": acc[seed] if epoch == 9 else 1.0}
            for i, (lr, acc) in enumerate(accuracies.items(), start=1)
            for seed in (0, 1)
            for epoch in (1, 9)
        ]
        return pd.DataFrame(rows)

    chosen = review_datasets.select(table({0.01: (0.8, 0.9), 0.1: (0.9, 0.9), 0.25: (np.nan, np.nan)}))
    assert chosen.lr.tolist() == [0.1]  # the last epoch's mean over seeds, not an earlier epoch's
    chosen = review_datasets.select(table({0.01: (0.9, 0.9), 0.1: (0.9, 0.9), 0.25: (np.nan, 1.0)}))
    assert chosen.lr.tolist() == [0.01] and chosen.test_acc.tolist() == [0.9]
    assert review_datasets.select(table({0.1: (np.nan, np.nan)})).empty  # nothing to choose


def test_claims_pass_on_runs_that_collapse_as_papyans_do(tmp_path):
    table = KIND.data(write_runs(tmp_path), meta())
    assert set(table[table.selected].lr) == {LRS[1]}
    assert len(table[table.selected].setting.unique()) == 9  # one run per sweep, the whole grid kept
    assert set(table.setting) == set(meta()["settings"])
    got = statuses(KIND.claims(table, meta()))
    assert set(got.values()) == {"passed"}, got
    assert len(got) == 3 + 1 + 2 + 1


def test_claims_fail_on_converged_runs_that_contradict_the_review(tmp_path):
    inputs = write_runs(
        tmp_path, final={"mnist": 1e-1, "cifar10": 1.0, "cifar100": 1e-2}, flat=["review_nc1_mnist_vgg11"]
    )
    got = statuses(KIND.claims(KIND.data(inputs, meta()), meta()))
    assert got["MNIST: NC1 collapses for every network"] == "failed"
    assert got["CIFAR10: ResNet18 attains NC1 ~1e-2"] == "failed"
    assert got["CIFAR100's networks end less collapsed than CIFAR10's"] == "failed"
    assert got["CIFAR100: NC1 collapses for every network"] == "passed"


def test_the_same_collapse_on_every_dataset_fails_the_dataset_dependence(tmp_path):
    inputs = write_runs(tmp_path, final={"mnist": 1e-2, "cifar10": 1e-2, "cifar100": 2e-2})
    got = statuses(KIND.claims(KIND.data(inputs, meta()), meta()))
    assert got["the extent of NC1's collapse depends on the dataset"] == "failed"
    assert got["CIFAR100's networks end less collapsed than CIFAR10's"] == "passed"


@pytest.mark.parametrize("best", [0, 2])
def test_a_lr_at_either_end_of_its_grid_is_reported(tmp_path, best):
    got = statuses(KIND.claims(KIND.data(write_runs(tmp_path, best=best), meta()), meta()))
    assert got["every selected learning rate lies inside its sweep's grid"] == "failed"


def test_a_grid_of_one_lr_has_no_inside(tmp_path):
    inputs = write_runs(tmp_path)
    keep = [i for i, name in enumerate(inputs.runs) if name.endswith("_lr2")]
    one = FigureInputs(
        metrics=tuple(inputs.metrics[i] for i in keep),
        metrics_test=tuple(inputs.metrics_test[i] for i in keep),
        runs=tuple(inputs.runs[i] for i in keep),
    )
    got = statuses(KIND.claims(KIND.data(one, meta()), meta()))
    assert got["every selected learning rate lies inside its sweep's grid"] == "premise_unmet"
    assert got["MNIST: NC1 collapses for every network"] == "passed"


@pytest.mark.parametrize("fit_at", [None, 60])
def test_runs_not_in_tpt_long_enough_are_not_converged(tmp_path, fit_at):
    inputs = write_runs(tmp_path, fits={"review_nc1_cifar10_resnet18": fit_at})
    claims = KIND.claims(KIND.data(inputs, meta()), meta())
    got = statuses(claims)
    assert got["CIFAR10: NC1 collapses for every network"] == "not_converged"
    assert got["CIFAR10: ResNet18 attains NC1 ~1e-2"] == "not_converged"
    assert got["the extent of NC1's collapse depends on the dataset"] == "not_converged"
    assert got["CIFAR100's networks end less collapsed than CIFAR10's"] == "not_converged"
    assert got["MNIST: NC1 collapses for every network"] == "passed"
    note = next(c["note"] for c in claims if c["claim"].startswith("CIFAR10: NC1"))
    assert ("never fitted" if fit_at is None else "in TPT only from epoch 100 of 100") in note


def test_an_unsettled_run_of_another_panel_leaves_the_pairwise_claim_a_verdict(tmp_path):
    inputs = write_runs(tmp_path, fits={"review_nc1_mnist_vgg11": None})
    got = statuses(KIND.claims(KIND.data(inputs, meta()), meta()))
    assert got["MNIST: NC1 collapses for every network"] == "not_converged"
    assert got["CIFAR100's networks end less collapsed than CIFAR10's"] == "passed"


def test_one_stand_in_for_every_panel_leaves_the_dataset_claims_without_their_premise(tmp_path):
    stand_in = meta(train_on="digits")
    got = statuses(KIND.claims(KIND.data(write_runs(tmp_path), stand_in), stand_in))
    assert got["the extent of NC1's collapse depends on the dataset"] == "premise_unmet"
    assert got["CIFAR100's networks end less collapsed than CIFAR10's"] == "premise_unmet"
    assert got["CIFAR10: ResNet18 attains NC1 ~1e-2"] == "premise_unmet"
    assert got["MNIST: NC1 collapses for every network"] == "passed"


@pytest.mark.parametrize(
    "patch",
    [
        {"data": {"dataset": "cifar10", "per_class": 500}},
        {"model": RESNET18 | {"widths": [8, 16, 32, 64]}},
        {"train": {"lr": LRS[1], "epochs": 60}},
        {"paper_dataset": "cifar10", "data": {"dataset": "fashionmnist", "per_class": None}},
    ],
    ids=["subset", "narrower", "shorter", "stand-in"],
)
def test_the_quoted_value_needs_the_papers_resnet18_epochs_and_whole_cifar10(tmp_path, patch):
    changed = meta()
    changed["settings"]["review_nc1_cifar10_resnet18_lr2"] |= patch
    claims = KIND.claims(KIND.data(write_runs(tmp_path), changed), changed)
    assert statuses(claims)["CIFAR10: ResNet18 attains NC1 ~1e-2"] == "premise_unmet"
    assert (
        statuses(KIND.claims(KIND.data(write_runs(tmp_path), meta()), meta()))["CIFAR10: ResNet18 attains NC1 ~1e-2"]
        == "passed"
    )


@pytest.mark.slow
def test_the_paper_scale_figure_job_runs_at_its_shape(tmp_path):
    """Review Fig. 5's figure job at paper scale (450 runs, whose resolved spec is 0.4 MB): the command line
    the rule runs, on synthetic metric tables at the paper's checkpoints, writes its figure and claims."""
    import json
    import shlex
    import subprocess
    import sys
    from types import SimpleNamespace

    from ncrepro.commands import shell_line
    from ncrepro.config import load_file

    resolved = load_file(scale="paper")
    fig = resolved.figure("review_fig5")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(resolved.figure_meta("review_fig5"), sort_keys=True))
    runs = [(name, seed) for name in fig.settings for seed in resolved.setting(name)["seeds"]]
    files = {"metrics": [], "metrics_test": []}
    for name, seed in runs:
        epochs = resolved.setting(name)["checkpoints"]
        base = [{"setting": name, "seed": seed, "epoch": e, "layer": "penultimate", "layer_index": 0} for e in epochs]
        tables = {
            "metrics": [b | {"metric": "nc1", "value": 0.9 ** b["epoch"]} for b in base]
            + [b | {"metric": "classifier_acc", "value": float(b["epoch"] >= 10)} for b in base],
            "metrics_test": [b | {"metric": "classifier_acc", "value": 0.8} for b in base],
        }
        for what, rows in tables.items():
            path = tmp_path / what / f"{name}_seed{seed}.parquet"
            path.parent.mkdir(exist_ok=True)
            pd.DataFrame(rows).to_parquet(path)
            files[what].append(str(path))
    empty = ""
    values = {
        "input": SimpleNamespace(
            metrics=" ".join(files["metrics"]),
            metrics_test=" ".join(files["metrics_test"]),
            geodesic=empty,
            stats=empty,
            transfer=empty,
            data=empty,
            surrogates=empty,
            spec=str(spec),
        ),
        "output": SimpleNamespace(
            **{k: str(tmp_path / f"out.{k}") for k in ("pdf", "figdata", "claims", "claims_table")}
        ),
        "params": SimpleNamespace(kind=fig.kind, runs=" ".join(name for name, _ in runs)),
        "log": str(tmp_path / "figure.log"),
    }
    command = shell_line("figure").format(**values).replace("python ", f"{shlex.quote(sys.executable)} ", 1)
    assert subprocess.run(command, shell=True).returncode == 0, (tmp_path / "figure.log").read_text()[-2000:]
    claims = json.loads((tmp_path / "out.claims").read_text())
    assert claims and (tmp_path / "out.pdf").stat().st_size > 0
