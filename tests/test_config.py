"""Configuration layers and validation: one-line errors that name the key path."""

import copy
import subprocess
import sys

import pytest

from conftest import with_pending_figure
from ncrepro import config
from ncrepro.config import ConfigError, checkpoint_epochs
from ncrepro.datasets import DATASETS


@pytest.mark.parametrize("scale", ["paper", "quick", "smoke"])
def test_every_scale_resolves(base_config, scale):
    base_config["scale"] = scale
    resolved = config.load(base_config)
    assert resolved.scale == scale
    for name, setting in resolved.settings.items():
        assert setting["name"] == name and setting["scale"] == scale
        assert setting["checkpoints"][0] == 0 and setting["checkpoints"][-1] == setting["train"]["epochs"]


def test_pfc_paper_settings_are_the_papers_recipe(base_config):
    """PFC Sec. IV-A and Table I: CE, SGD 0.9, wd 5e-4, batch 128, 350 epochs, /10 at 117 and 233."""
    base_config["scale"] = "paper"
    s = config.load(base_config).settings
    for name in ["pfc_mnist", "pfc_fashionmnist", "pfc_cifar10", "pfc_stl10", "pfc_cifar100"]:
        t = s[name]["train"]
        assert (t["loss"], t["optimizer"], t["momentum"], t["weight_decay"]) == ("ce", "sgd", 0.9, 5e-4)
        assert (t["batch_size"], t["epochs"], t["milestones"], t["gamma"]) == (128, 350, [117, 233], 0.1)
        assert t["lr"] == (0.005 if name == "pfc_mnist" else 0.01)
    assert s["pfc_fashionmnist"]["model"]["stages"] == [{"channels": 32, "blocks": 5}, {"channels": 64, "blocks": 4}]
    assert s["pfc_mnist"]["model"] == {"arch": "pfc_fc_resnet", "width": 1000, "blocks": 10}


def test_scale_is_an_override_layer_not_a_copy(base_config):
    """Keys a scale does not mention keep the paper's values."""
    smoke = config.load(base_config).settings["pfc_fashionmnist"]
    assert smoke["train"]["momentum"] == 0.9 and smoke["train"]["weight_decay"] == 5e-4
    assert smoke["data"]["dataset"] == "digits" and smoke["paper_dataset"] == "fashionmnist"


def test_user_override_changes_one_setting_only(base_config):
    plain = config.load(base_config)
    base_config["overrides"] = {"settings": {"pfc_fashionmnist": {"train": {"lr": 0.02}}}}
    changed = config.load(base_config)
    assert changed.settings["pfc_fashionmnist"]["train"]["lr"] == 0.02
    assert changed.settings["pfc_cifar10"] == plain.settings["pfc_cifar10"]
    assert config.setting_digest(changed.settings["pfc_fashionmnist"]) != config.setting_digest(
        plain.settings["pfc_fashionmnist"]
    )


def test_checkpoint_spec():
    assert checkpoint_epochs([5, 0, 5, 2], 10) == [0, 2, 5]
    eps = checkpoint_epochs({"log": 4, "every": 10}, 30)
    assert eps[0] == 0 and eps[-1] == 30 and {10, 20, 30} <= set(eps) and 1 in eps


BAD = [
    ({"scale": "big"}, "config: scale:"),
    ({"threads": "two"}, "config: threads:"),
    ({"threads": 0}, "config: threads:"),
    ({"device": "tpu"}, "config: device:"),
    ({"colour": 1}, "unknown key"),
    ({"data": {"root": "x", "prestaged": {"places365": "/x"}}}, "config: data.prestaged"),
    ({"data": {"root": "x", "download": "yes"}}, "config: data.download"),
    ({"targets": ["pfc_nope"]}, "config: targets.0: unknown figure id 'pfc_nope'"),
    ({"overrides": {"settings": {"nope": {}}}}, "overrides.settings.nope: unknown setting"),
    ({"overrides": {"settings": {"pfc_mnist": {"train": {"lr": -1}}}}}, "overrides.settings.pfc_mnist.train.lr"),
    (
        {"overrides": {"settings": {"pfc_mnist": {"train": {"epochs": 2.5}}}}},
        "overrides.settings.pfc_mnist.train.epochs",
    ),
    ({"overrides": {"settings": {"pfc_mnist": {"data": {"per_class": -3}}}}}, "pfc_mnist.data.per_class"),
    ({"overrides": {"settings": {"pfc_mnist": {"data": {"dataset": "places365"}}}}}, "pfc_mnist.data.dataset"),
    ({"overrides": {"settings": {"pfc_mnist": {"data": {"classes": [3, 10]}}}}}, "data.classes: [10] are not classes"),
    ({"overrides": {"settings": {"pfc_mnist": {"data": {"classes": [3, 3]}}}}}, "pfc_mnist.data.classes"),
    ({"overrides": {"settings": {"pfc_mnist": {"train": {"optimiser": "sgd"}}}}}, "unknown key"),
    ({"overrides": {"settings": {"pfc_mnist": {"train": {"milestones": [999]}}}}}, "train.milestones.0"),
    ({"overrides": {"settings": {"pfc_mnist": {"checkpoints": [0, 999]}}}}, "checkpoints.1"),
    ({"overrides": {"settings": {"pfc_mnist": {"model": {"stages": "wide"}}}}}, "pfc_mnist.model.stages"),
    (
        {"overrides": {"settings": {"perturb_layerwise_mlp": {"train": {"epochs": 40}}}}},
        "perturb_layerwise_mlp.train.epochs: layer-wise training of 10 layers x 3 epochs needs epochs = 30",
    ),
    ({"overrides": {"settings": {"ulpm_vgg13_mnist": {"model": {"depth": 13}}}}}, "vgg needs exactly one of"),
    ({"overrides": {"settings": {"perturb_cifar10_ce": {"train": {"weight_decay_head": -1}}}}}, "weight_decay_head"),
    (
        {"overrides": {"settings": {"pfc_mnist": {"model": {"head": {"layers": 3}}}}}},
        "need arch resnet, vgg, wide_resnet, densenet or mlp",
    ),
    ({"overrides": {"settings": {"ulpm_vgg13_mnist": {"model": {"depth": 12}}}}}, "vgg depths are 11, 13"),
    (
        {"overrides": {"settings": {"pfc_mnist": {"model": {"arch": "densenet", "depth": 41, "growth_rate": 12}}}}},
        "a DenseNet's depth is 3n + 4",
    ),
    ({"overrides": {"surrogates": {"nope": {"params": {}}}}}, "overrides.surrogates.nope: unknown surrogate"),
    ({"overrides": {"surrogates": {"dufm_srg_construction": {"model": "x"}}}}, "unknown key"),
    ({"resources": {"train": {"mem_mb": -1}}}, "config: resources.train.mem_mb"),
    ({"resources": {"download": {"runtime": 5}}}, "config: resources: unknown key"),
    ({"plot": {"font_size": 0}}, "config: plot.font_size"),
    ({"plot": {"colour": "red"}}, "config: plot: unknown key"),
    ({"overrides": {"figures": {"pfc_nope": {"plot": {}}}}}, "overrides.figures.pfc_nope: unknown figure id"),
    ({"overrides": {"figures": {"pfc_mnist": {"plot": {"figure_scale": "big"}}}}}, "figures.pfc_mnist.plot"),
]


@pytest.mark.parametrize(("patch", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_config_gives_one_line_naming_the_key(base_config, patch, expected):
    cfg = copy.deepcopy(base_config)
    cfg.update(patch)
    with pytest.raises(ConfigError) as info:
        config.load(cfg)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_bad_scale_file_names_the_file(tmp_path, base_config):
    """A scale file beside the config in use replaces the shipped one; its errors name it."""
    (tmp_path / "scales").mkdir()
    (tmp_path / "scales" / "smoke.yaml").write_text("settings:\n  pfc_mnist:\n    train: {lr: fast}\n")
    with pytest.raises(ConfigError, match=rf"{tmp_path}/scales/smoke.yaml: settings.pfc_mnist.train.lr"):
        config.load(base_config, [tmp_path])


def test_paper_files_beside_the_config_in_use_replace_the_shipped_ones(tmp_path, repo_root):
    """A deployed config/ (config.yaml with papers/ beside it) is read as it stands; a file it lacks comes
    from the copies the project ships."""
    (tmp_path / "papers").mkdir()
    recipe = (repo_root / "config" / "papers" / "pfc.yaml").read_text()
    (tmp_path / "papers" / "pfc.yaml").write_text(recipe.replace("{dataset: fashionmnist}", "{dataset: kmnist}", 1))
    (tmp_path / "config.yaml").write_text((repo_root / "config" / "config.yaml").read_text())
    shipped = config.load_file(scale="paper").settings["pfc_fashionmnist"]
    mine = config.load_file([tmp_path / "config.yaml"], scale="paper").settings
    assert shipped["data"]["dataset"] == "fashionmnist" and mine["pfc_fashionmnist"]["data"]["dataset"] == "kmnist"
    assert mine["dufm_standard_mnist"] == config.load_file(scale="paper").settings["dufm_standard_mnist"]
    assert config.shipped_config() == repo_root / "config"


def test_cli_check_config_exit_status(tmp_path, repo_root):
    good = subprocess.run(
        [sys.executable, "-m", "ncrepro.cli", "check-config", "--scale", "smoke"], capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text((repo_root / "config" / "config.yaml").read_text() + "\nthreads: many\n")
    bad = subprocess.run(
        [sys.executable, "-m", "ncrepro.cli", "check-config", "--configfile", str(bad_file)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "threads" in bad.stderr


def ncrepro_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ncrepro.cli", *args], capture_output=True, text=True)


def test_cli_layers_config_files_as_snakemake_does_and_says_its_version(tmp_path, repo_root):
    mine = tmp_path / "mine.yaml"
    mine.write_text("scale: quick\noverrides: {settings: {pfc_fashionmnist: {train: {lr: 0.02}}}}\n")
    both = ncrepro_cli("check-config", "--configfile", str(repo_root / "config" / "config.yaml"), str(mine))
    assert both.returncode == 0 and "scale=quick" in both.stdout, both.stderr
    from ncrepro import __version__

    assert ncrepro_cli("--version").stdout.strip() == f"ncrepro {__version__}"


def test_cli_is_quiet_when_its_reader_leaves():
    """`ncrepro list-figures | head`: the reader closes the pipe early; no traceback, status 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncrepro.cli", "list-figures"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()
    assert proc.wait() == 0 and proc.stderr.read() == b""


def test_config_values_given_as_text_take_the_schemas_types(base_config):
    """`--config key=value` hands nested values over as text: numbers, integers and booleans are read
    as the schema wants them; text that is none of them is still an error."""
    base_config["threads"] = "2"
    base_config["data"]["download"] = "false"
    base_config["overrides"] = {
        "settings": {"pfc_fashionmnist": {"train": {"lr": "0.02", "epochs": "3", "milestones": ["1"]}}}
    }
    resolved = config.load(base_config)
    train = resolved.settings["pfc_fashionmnist"]["train"]
    assert (train["lr"], train["epochs"], train["milestones"]) == (0.02, 3, [1])
    assert resolved.threads == 2 and resolved.data["download"] is False
    base_config["overrides"] = {"settings": {"pfc_fashionmnist": {"train": {"lr": "fast"}}}}
    with pytest.raises(ConfigError, match="train.lr: 'fast' is not of type 'number'"):
        config.load(base_config)


def test_unknown_and_pending_figure_ids_name_the_closest_ids(base_config):
    resolved = config.load(base_config)
    assert resolved.figure_id_problem("pfc_cifar11") == (
        "unknown figure id 'pfc_cifar11'; did you mean pfc_cifar10, pfc_cifar100, pfc_cifar10_depth?"
        " `ncrepro list-figures` lists them all"
    )
    with pytest.raises(ConfigError, match="unknown figure id 'nope'; `ncrepro list-figures`"):
        resolved.figure("nope")


def test_a_pending_figure_is_named_as_such(tmp_path, base_config):
    """A figure listed in a paper file without a kind that builds it yet (none of the shipped ones)."""
    config_dir = with_pending_figure(tmp_path)
    assert "is pending" in config.load(base_config, [config_dir]).figure_id_problem("review_fig5")
    base_config["targets"] = ["review_fig5"]
    with pytest.raises(ConfigError, match="config: targets.0: figure 'review_fig5' is pending"):
        config.load(base_config, [config_dir])


def test_figure_registry_lists_every_paper(base_config):
    figs = config.load(base_config).figures
    for paper in config.PAPERS:
        assert any(f.paper == paper for f in figs.values())
    assert {
        "pfc_fashionmnist",
        "pfc_fashionmnist_depth",
        "pfc_cifar10",
        "pfc_table1",
        "perturb_table1",
        "ulpm_fig2",
        "dufm_fig10",
        "review_fig3",
    } <= set(figs)
    assert all(fig.implemented for fig in figs.values())  # no pending id: every figure has its kind


def _undescribed(schema, path: str) -> list[str]:
    """Key paths under ``schema`` without a ``description``: every named property, every ``$defs``
    entry and every object-valued ``additionalProperties`` (a map's entries, ``<path>.*``), found
    through properties, additionalProperties, items, oneOf/anyOf branches and $defs."""
    if not isinstance(schema, dict):
        return []

    def described(sub) -> bool:
        return isinstance(sub, dict) and isinstance(sub.get("description"), str) and sub["description"].strip() != ""

    missing = []
    children = [(f"{path}.{name}".lstrip("."), sub, True) for name, sub in schema.get("properties", {}).items()]
    children += [(f"$defs.{name}", sub, True) for name, sub in schema.get("$defs", {}).items()]
    if isinstance(schema.get("additionalProperties"), dict):
        children.append((f"{path}.*".lstrip("."), schema["additionalProperties"], True))
    if isinstance(schema.get("items"), dict):
        children.append((f"{path}[]", schema["items"], False))
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        children.append((path, branch, False))
    for child_path, sub, is_key in children:
        if is_key and not described(sub):
            missing.append(child_path)
        missing += _undescribed(sub, child_path)
    return missing


def test_every_schema_key_has_a_description(repo_root):
    """config/README.md documents the configuration; every schema key carries its own one-line description."""
    import yaml

    paths = sorted((repo_root / "src" / "ncrepro" / "schemas").glob("*.schema.yaml"))
    assert paths
    missing = [f"{path.name}: {key}" for path in paths for key in _undescribed(yaml.safe_load(path.read_text()), "")]
    assert not missing, "schema keys without a description:\n" + "\n".join(missing)


def offline(base_config: dict, repo_root, scale: str) -> config.Resolved:
    """The configuration with config/offline.yaml layered on, as `--configfile ... config/offline.yaml`."""
    import yaml

    layer = yaml.safe_load(open(repo_root / "config" / "offline.yaml"))
    return config.load(config.deep_merge(dict(base_config, scale=scale), layer))


def test_quick_scale_names_the_papers_own_datasets(base_config):
    base_config["scale"] = "quick"
    settings = config.load(base_config).settings
    for name, setting in settings.items():
        assert setting["data"]["dataset"] == setting["paper_dataset"], name


def test_offline_stand_ins_keep_the_geometry_the_setting_asks_of_the_papers_dataset(base_config, repo_root):
    quick = offline(base_config, repo_root, "quick").settings
    data = {name: s["data"] for name, s in quick.items()}
    # grown by the entry's resize, with the stand-in's channels; shrunk by interpolation
    assert (data["pfc_cifar10"]["dataset"], data["pfc_cifar10"]["shape"], data["pfc_cifar10"]["resize"]) == (
        "fashionmnist",
        [1, 32, 32],
        "pad",
    )
    assert (data["ulpm_resnet18_cifar10"]["shape"], data["ulpm_resnet18_cifar10"]["resize"]) == (
        [1, 14, 14],
        "interpolate",
    )
    # per_class capped at the stand-in's smallest class; no shape keeps the stand-in's native size
    assert (data["pfc_mnist"]["dataset"], data["pfc_mnist"]["per_class"]) == ("digits", 144)
    assert (data["dufm_standard_mnist"]["per_class"], data["dufm_standard_mnist"].get("shape")) == (144, None)
    # Perturb Fig. 6's 9x9 blur of 28x28 MNIST, 3x3 on digits' 8x8 by the rule (test_apply_standin_rule), is
    # 5x5 by the offline layer's exception: the smallest that hardens the distinction between 4 and 9
    assert data["perturb_blur49_b_blur_fcwd5e4"]["blur"] == {"classes": [4, 9], "kernel": 5}
    # per-setting choices of the offline layer: another stand-in, a width equal to the input dimension
    assert (data["perturb_mnist5k_ce_baseline"]["dataset"], data["perturb_mnist5k_ce_baseline"]["per_class"]) == (
        "fashionmnist",
        450,
    )
    assert data["perturb_layerwise_mlp"]["shape"] is None
    assert quick["perturb_layerwise_mlp"]["model"]["widths"] == [784] * 10
    for setting in quick.values():
        assert setting["data"]["dataset"] in ("digits", "fashionmnist"), setting["name"]
    # every scale: at paper scale too; the smoke scale is on digits already
    paper = offline(base_config, repo_root, "paper").settings
    assert (paper["pfc_mnist"]["data"]["dataset"], paper["pfc_mnist"]["data"]["per_class"]) == ("digits", 144)
    assert offline(base_config, repo_root, "smoke").settings == config.load(base_config).settings


def test_apply_standin_rule():
    specs = DATASETS
    setting = {"data": {"dataset": "mnist", "per_class": 50, "shape": [3, 6, 6], "blur": {"classes": [1], "kernel": 9}}}
    out = config.apply_standin(setting, {"dataset": "digits", "resize": "pad"}, {}, specs)
    assert out["data"] == {
        "dataset": "digits",
        "per_class": 50,
        "shape": [1, 6, 6],
        "resize": "interpolate",
        "blur": {"classes": [1], "kernel": 3},
    }
    grown = config.apply_standin(
        dict(setting, data=dict(setting["data"], shape=[3, 9, 9])), {"dataset": "digits", "resize": "pad"}, {}, specs
    )
    assert (grown["data"]["shape"], grown["data"]["resize"]) == ([1, 9, 9], "pad")
    other = config.apply_standin(
        setting, {"dataset": "digits"}, {"data": {"dataset": "fashionmnist"}, "seeds": [7]}, specs
    )
    assert (other["data"]["dataset"], other["data"]["blur"]["kernel"], other["seeds"]) == ("fashionmnist", 9, [7])
    assert setting["data"]["dataset"] == "mnist"  # the input is left as it was


@pytest.mark.parametrize(
    "standins,expected",
    [
        ({"mnist": {"dataset": "places365"}}, "data.standins.mnist.dataset: 'places365' is not a registered dataset"),
        ({"mnist": {"dataset": "kmnist"}, "kmnist": {"dataset": "digits"}}, "'kmnist' is itself stood in"),
        (
            {"mnist": {"dataset": "digits", "settings": {"pfc_nope": {}}}},
            "data.standins.mnist.settings.pfc_nope: unknown setting",
        ),
        (
            {"mnist": {"dataset": "digits", "settings": {"pfc_mnist": {"train": {"lr": -1}}}}},
            "settings.pfc_mnist.train.lr",
        ),
        ({"places365": {"dataset": "digits"}}, "data.standins: 'places365'"),
        ({"mnist": {"dataset": "digits", "resize": "crop"}}, "data.standins.mnist.resize"),
    ],
)
def test_bad_standins_are_one_line(base_config, standins, expected):
    base_config["data"]["standins"] = standins
    with pytest.raises(ConfigError) as exc:
        config.load(base_config)
    assert expected in str(exc.value) and "\n" not in str(exc.value), str(exc.value)


def test_scheduler_requests_follow_the_scale_and_the_users_own_win(base_config):
    shipped = config.load(dict(base_config, scale="paper")).resources
    smoke = config.load(base_config).resources
    assert (
        smoke["train"]["runtime"] < shipped["train"]["runtime"]
        and smoke["stats"]["mem_mb"] < shipped["stats"]["mem_mb"]
    )
    base_config["resources"] = {"train": {"runtime": 99}}
    mine = config.load(base_config).resources
    assert mine["train"] == {"runtime": 99, "mem_mb": smoke["train"]["mem_mb"]}
    base_config["overrides"] = {"resources": {"train": {"runtime": 5}}}
    with pytest.raises(ConfigError, match="overrides.resources: resources are set at the top level"):
        config.load(base_config)


def test_only_settings_of_one_recipe_share_runs(base_config):
    """At smoke scale the digits stand-in makes some settings one recipe (their runs are shared); at paper
    scale every setting is its own."""
    smoke = config.load(base_config)
    assert smoke.run_of("ulpm_vgg13_mnist") == smoke.run_of("ulpm_vgg13_kmnist") == "ulpm_vgg13_cifar10"
    assert smoke.run_of("review_optimizers_mnist_sgd") == "review_optimizers_cifar10_sgd"  # resize without a shape
    assert smoke.run_of("review_optimizers_mnist_sgd") != smoke.run_of("review_optimizers_mnist_adam")
    assert smoke.figure_meta("ulpm_fig4")["shared_runs"] == {"ulpm_vgg13_mnist": "ulpm_vgg13_cifar10"}
    base_config["scale"] = "paper"
    paper = config.load(base_config)
    assert all(paper.run_of(name) == name for name in paper.settings)


def sweep_config_dir(tmp_path, repo_root, smoke_values=None):
    """config/ with the review paper's Fig. 9 MLP as a family sweeping train.lr over three values (and the
    smoke scale shortening it to ``smoke_values``)."""
    import yaml

    (tmp_path / "papers").mkdir(parents=True)
    doc = yaml.safe_load((repo_root / "config" / "papers" / "review.yaml").read_text())
    family = doc["settings"]["review_layerwise_mlp"]
    family.pop("variants")
    family["sweep"] = {"key": "train.lr", "values": [0.01, 0.05, 0.25]}
    (tmp_path / "papers" / "review.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "scales").mkdir()
    scale = yaml.safe_load((repo_root / "config" / "scales" / "smoke.yaml").read_text())
    if smoke_values is not None:
        scale["settings"]["review_layerwise_mlp"]["sweep"] = {"values": smoke_values}
    (tmp_path / "scales" / "smoke.yaml").write_text(yaml.safe_dump(scale))
    return tmp_path


def test_a_sweep_makes_one_variant_per_value_and_a_scale_may_shorten_it(tmp_path, repo_root, base_config):
    """A family sweeping one key (e.g. the learning-rate grid a paper chooses from) has a variant per value,
    <leaf><i>; a scale layer may replace the values, and the figure draws the variants it then has."""
    base_config["scale"] = "paper"
    paper = config.load(base_config, [sweep_config_dir(tmp_path / "a", repo_root)])
    names = [f"review_layerwise_mlp_lr{i}" for i in (1, 2, 3)]
    assert [paper.settings[n]["train"]["lr"] for n in names] == [0.01, 0.05, 0.25]
    assert paper.figure("review_fig9").settings == names
    base_config["scale"] = "smoke"
    smoke = config.load(base_config, [sweep_config_dir(tmp_path / "b", repo_root, smoke_values=[0.1])])
    assert smoke.figure("review_fig9").settings == ["review_layerwise_mlp_lr1"]
    assert smoke.settings["review_layerwise_mlp_lr1"]["train"]["lr"] == 0.1
    assert smoke.settings["review_layerwise_mlp_lr1"]["data"]["dataset"] == "digits"  # the family's scale entry


def test_a_sweep_of_a_setting_without_one_or_of_a_bad_shape_is_one_line(tmp_path, repo_root, base_config):
    base_config["overrides"] = {"settings": {"pfc_mnist": {"sweep": {"values": [0.1]}}}}
    with pytest.raises(
        ConfigError, match="overrides.settings.pfc_mnist.sweep: pfc_mnist is not a setting with a sweep"
    ):
        config.load(base_config)
    base_config["overrides"] = {"settings": {"review_layerwise_mlp": {"sweep": {"key": "train.lr", "values": [1]}}}}
    with pytest.raises(ConfigError, match=r"sweep: must be \{values: \[...\]\} \(the key is the paper's\)"):
        config.load(base_config, [sweep_config_dir(tmp_path, repo_root)])
    with pytest.raises(ConfigError, match="a setting has variants or a sweep, not both"):
        config.sweep_variants({"key": "train.lr", "values": [1]}, None, "here", {"a": {}})
    with pytest.raises(ConfigError, match="is not a setting key path"):
        config.sweep_variants({"key": "lr", "values": [1]}, None, "here", None)
