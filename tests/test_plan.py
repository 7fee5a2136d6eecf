"""The cost plan (ncrepro.plan): FLOPs counted on the models against a hand count, the statistics job's
memory model and the batch it chooses to fit a budget, the tables `make plan` writes."""

import json

import numpy as np
import pytest

from ncrepro import config, plan, stages, train
from ncrepro.datasets import DATASETS, DatasetSpec


def mlp_setting(widths, batch_norm=False):
    return {
        "name": "tiny",
        "data": {"dataset": "digits", "per_class": 20, "shape": None},
        "model": {"arch": "mlp", "widths": widths, "batch_norm": batch_norm},
        "train": {"epochs": 7, "batch_size": 32},
        "seeds": [0, 1],
        "checkpoints": [0, 3, 7],
        "measure": {"batch_size": 50},
    }


def test_flops_of_a_small_model_match_a_hand_count():
    """An MLP 64 -> 32 -> 16 -> 10 (digits, K = 10): 2 x multiply-adds of its three matrix products per
    sample forward; training 3x that per sample and epoch, statistics 2x per checkpoint."""
    setting = mlp_setting([32, 16])
    spec = DATASETS["digits"]
    profile = plan.model_profile(setting, spec)
    forward = 2 * (64 * 32 + 32 * 16 + 16 * 10)
    assert profile["forward_flops"] == forward
    assert profile["feature_dims"] == [32, 16]
    assert profile["parameters"] == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    row = plan.setting_cost(setting, spec, tflops=1.0)
    n, seeds = 200, 2
    assert row["samples"] == n and row["checkpoints"] == 3
    assert row["train_PFLOP"] == pytest.approx(3 * forward * n * 7 * seeds / 1e15)
    assert row["stats_PFLOP"] == pytest.approx(2 * forward * n * 3 * seeds / 1e15)
    assert row["gpu_hours"] == pytest.approx((3 * forward * n * 7 + 2 * forward * n * 3) * seeds / 1e12 / 3600)


def test_few_shot_transfer_adds_a_forward_pass_over_its_samples_per_checkpoint():
    """Review Fig. 10's transfer stage: per checkpoint, the target classes' queries and the episodes'
    support samples pass forward once."""
    setting = mlp_setting([32, 16])
    spec = DATASETS["digits"]
    plain = plan.setting_cost(setting, spec, tflops=1.0)["stats_PFLOP"]
    transfer = {"classes": [7, 8, 9], "episodes": 4, "ways": 2, "shots": 3, "queries": 5, "ridge": 1.0}
    setting["measure"]["transfer"] = transfer
    forward = plan.model_profile(setting, spec)["forward_flops"]
    extra = forward * (3 * 5 + 4 * 2 * 3) * 3 * 2  # samples x checkpoints x seeds
    assert plan.setting_cost(setting, spec, tflops=1.0)["stats_PFLOP"] == pytest.approx(plain + extra / 1e15)


def test_a_class_subset_plans_its_own_classes_and_samples():
    setting = mlp_setting([32, 16])
    setting["data"]["classes"] = [2, 7, 9]
    spec = DATASETS["digits"]
    assert plan.model_profile(setting, spec)["parameters"] == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 3 + 3
    row = plan.setting_cost(setting, spec, tflops=1.0)
    assert (row["classes"], row["samples"]) == (3, 3 * 20)
    setting["data"]["per_class"] = None
    assert plan.setting_cost(setting, spec, tflops=1.0)["samples"] == spec.train_size * 3 // 10


def test_statistics_memory_grows_with_the_batch_and_the_job_picks_the_largest_that_fits():
    profile = {
        "in_numel": 3072,
        "forward_flops": 1,
        "parameters": 10**6,
        "feature_dims": [4096, 512],
        "activation_numel": 10**5,
    }
    n, k = 50_000, 100
    sizes = [plan.stats_memory(profile, n, k, b) for b in (1, 10, 100, 1000)]
    assert sizes == sorted(sizes) and sizes[0] > n * 3072 * 4  # the resident data at least
    budget = plan.stats_memory(profile, n, k, 321)
    assert plan.stats_batch_size(profile, n, k, 1000, budget) == 321
    assert plan.stats_batch_size(profile, n, k, 200, budget) == 200
    with pytest.raises(ValueError, match="even one sample at a time"):
        plan.stats_batch_size(profile, n, k, 1000, sizes[0] - 1)


@pytest.mark.parametrize(
    "model",
    [
        {"arch": "densenet", "depth": 40, "growth_rate": 12, "bc": False},
        {"arch": "densenet", "depth": 100, "growth_rate": 12, "bc": True},
        {"arch": "resnet", "stem": "cifar", "block": "bottleneck", "widths": [16, 32, 64, 128], "blocks": [3, 4, 6, 3]},
        {"arch": "vgg", "depth": 11, "batch_norm": True},
        {"arch": "wide_resnet", "depth": 10, "widen_factor": 2},
        {"arch": "mlp", "widths": [300, 300], "batch_norm": True},
    ],
    ids=lambda m: m["arch"],
)
def test_training_memory_bounds_what_autograd_keeps_for_the_backward(model):
    """The planned activations of a training step (plan.train_memory less its parameter term) hold every
    tensor autograd saves in a forward pass, other than the parameters, and overestimate it by at most 2x."""
    import torch

    from ncrepro.models import build_model

    batch, shape = 4, [3, 32, 32]
    net = build_model(model, tuple(shape), 10)
    params = {p.data_ptr() for p in net.parameters()}
    saved: dict[int, int] = {}

    def pack(t):
        if t.data_ptr() not in params:
            saved[t.data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(torch.randn(batch, *shape))
    profile = plan.model_profile({"model": model, "data": {"shape": shape}}, DATASETS["cifar10"])
    planned = plan.train_memory(profile, batch) - 16 * profile["parameters"]
    assert sum(saved.values()) <= planned <= 2 * sum(saved.values())


@pytest.mark.parametrize(
    "model",
    [
        {"arch": "mlp", "widths": [32, 16], "batch_norm": True},
        {"arch": "resnet", "widths": [4, 8], "blocks": [1, 1]},
        {"arch": "vgg", "cfg": [8, "M", 16, "M"]},
        {"arch": "densenet", "depth": 10, "growth_rate": 4, "bc": True},
    ],
)
def test_a_statistics_jobs_profile_on_the_cpu_equals_the_plans_on_the_meta_device(model):
    setting = {"model": model, "data": {"shape": [3, 16, 16]}}
    meta, cpu = (plan.model_profile(setting, DATASETS["cifar10"], flops=f) for f in (True, False))
    assert cpu["forward_flops"] is None and meta["forward_flops"] > 0
    assert {k: v for k, v in cpu.items() if k != "forward_flops"} == {
        k: v for k, v in meta.items() if k != "forward_flops"
    }


def test_a_statistics_jobs_profile_imports_no_compiler_stack():
    """The FLOP counter and the meta device import torch's compiler stack (seconds per job)."""
    import subprocess
    import sys

    code = (
        "import sys; from ncrepro import plan; from ncrepro.datasets import DATASETS;"
        " plan.model_profile({'model': {'arch': 'mlp', 'widths': [8]}, 'data': {'shape': None}},"
        " DATASETS['digits'], flops=False); sys.exit('torch._dynamo' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_statistics_job_with_little_memory_lowers_its_batch_and_measures_the_same(
    base_config, digits_cache, tmp_path, capfd
):
    base_config["overrides"] = {
        "settings": {
            "perturb_cifar10_ce": {
                "data": {"per_class": 40},
                "train": {"epochs": 1, "milestones": []},
                "checkpoints": [0, 1],
            }
        }
    }
    setting = config.load(base_config).settings["perturb_cifar10_ce_baseline"]
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    stages.stage_stats(str(manifest), [1], str(digits_cache), str(tmp_path / "free"), "cpu", 1)
    profile = plan.model_profile(setting, DATASETS["digits"])
    memory_mb = 1
    expected = plan.stats_batch_size(profile, 400, 10, 400, int(0.9 * (memory_mb << 20)))
    assert 1 < expected < 400
    stages.stage_stats(str(manifest), [1], str(digits_cache), str(tmp_path / "tight"), "cpu", 1, memory_mb=memory_mb)
    assert f"statistics batch {expected} (measure.batch_size 400)" in capfd.readouterr().err
    free, low = (np.load(stages.stats_path(tmp_path / d, 1)) for d in ("free", "tight"))
    for key in free.files:
        if key != "meta":
            np.testing.assert_allclose(low[key], free[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_plan_tables(tmp_path, repo_root):
    resolved = config.load_file(scale="paper")
    runs, solves = plan.plan(resolved, ["pfc_fashionmnist", "dufm_fig3"])
    assert runs.setting.tolist() == ["pfc_fashionmnist"] and runs.seeds.tolist() == [1]
    assert runs.samples.tolist() == [60_000] and runs.epochs.tolist() == [350]
    assert set(solves.surrogate) == {"dufm_loss_ratio", "dufm_rank_vs_weight_decay", "dufm_dnc_vs_width"}
    text = plan.markdown(runs, solves, "paper", 10.0, "assumed")
    assert "| pfc | 1 |" in text and "dufm_rank_vs_weight_decay" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{plan.README_BEGIN}\nold\n{plan.README_END}\nrest\n")
    plan.update_readme(readme, runs, 10.0)
    out = readme.read_text()
    assert out.startswith("intro\n") and out.endswith("\nrest\n") and "old" not in out and "| all | 1 |" in out
    assert (repo_root / "README.md").read_text().count(plan.README_BEGIN) == 1


def test_custom_dataset_size_is_its_training_split():
    spec = DatasetSpec("mine", "npz", 3, (1, 4, 4), min_per_class=5, train_size=17)
    setting = json.loads(json.dumps(mlp_setting([8])))
    setting["data"]["per_class"] = None
    assert plan.setting_cost(setting, spec, 1.0)["samples"] == 17


@pytest.mark.slow
def test_gpu_check_runs_dry_on_the_cpu(tmp_path, repo_root):
    """bench/gpu_check.sh's steps on the CPU with tiny sizes: two runs bit-identical, the CPU run the
    same, epoch times of two paper architectures."""
    import os
    import subprocess
    import sys

    out = tmp_path / "gpu_check.json"
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(
        ["bash", str(repo_root / "bench" / "gpu_check.sh"), "--dry", str(out)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["dry"] and result["determinism"]["bit_identical_checkpoints"]
    assert result["cpu_agreement"]["largest_relative_difference"]["0"] == 0.0  # the same device twice
    assert len(result["epoch_times"]) == 2 and all(r["seconds_per_epoch"] > 0 for r in result["epoch_times"])


def test_plan_uses_the_throughput_the_gpu_check_measured(tmp_path):
    path = tmp_path / "gpu_check.json"
    assert plan.throughput(path) == (plan.DEFAULT_TFLOPS, "assumed: bench/gpu_check.sh has not measured a GPU yet")
    path.write_text(json.dumps({"dry": True, "sustained_tflops_median": 0.1}))
    assert plan.throughput(path)[0] == plan.DEFAULT_TFLOPS
    path.write_text(json.dumps({"dry": False, "sustained_tflops_median": 23.5, "machine": {"device_name": "H200"}}))
    assert plan.throughput(path) == (23.5, "measured on H200 by bench/gpu_check.sh")


def test_the_measured_cost_of_a_build_sums_its_jobs_benchmark_files(tmp_path):
    """ncrepro.cost: every benchmark file under results/<scale>/ is one job, summed per stage and paper; a
    training job's FLOPs are the plan's per seed, scaled to the epochs the run made (train.until)."""
    import json

    from ncrepro.config import load_file
    from ncrepro.cost import build_cost
    from ncrepro.plan import setting_cost

    resolved = load_file(scale="smoke")
    folder = tmp_path / "smoke"
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    jobs = {
        "train/pfc_mnist/seed0/train.benchmark.tsv": (100.0, 90.0),
        "stats/pfc_mnist/seed0.benchmark.tsv": (20.0, 18.0),
        "surrogates/pfc_mufm_collapse.benchmark.tsv": (300.0, 299.0),
        "figures/pfc_mnist.benchmark.tsv": (5.0, 4.0),
    }
    for path, (wall, cpu) in jobs.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(header + f"{wall}\t0:00:00\t500\t0\t0\t0\t0\t0\t0\t{cpu}\n")
    setting = resolved.setting("pfc_mnist")
    manifest = {
        "epochs_run": 2 * setting["train"]["epochs"],
        "checkpoints": {str(e): {} for e in setting["checkpoints"]},
    }
    (folder / "train/pfc_mnist/seed0/manifest.json").write_text(json.dumps(manifest))
    cost = build_cost(resolved, folder)
    assert cost["total"] == {"jobs": 4, "wall_h": round(425 / 3600, 3), "cpu_h": round(411 / 3600, 3)}
    assert set(cost["per_stage"]) == {"train", "stats", "surrogates", "figures"} and set(cost["per_paper"]) == {"pfc"}
    plan = setting_cost(setting, resolved.datasets[setting["data"]["dataset"]], 1.0)
    seeds = len(setting["seeds"])
    expected = (2 * plan["train_PFLOP"] + plan["stats_PFLOP"]) * 1e15 / seeds
    assert cost["train_stats_flops"] == pytest.approx(expected) and cost["train_stats_cpu_s"] == 108.0
    assert [j["name"] for j in cost["slowest"]] == ["pfc_mufm_collapse", "pfc_mnist", "pfc_mnist", "pfc_mnist"]
    assert cost["slowest"][0]["flop_per_cpu_s"] is None
