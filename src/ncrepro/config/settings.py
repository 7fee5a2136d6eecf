"""One setting resolved from its layers: merged in order, moved onto its dataset's stand-in where the offline
layer names one, checked, and completed with what derives from it (its checkpoint epochs, ``train.until``'s
tolerances, its name and scale)."""

from __future__ import annotations

from ..architectures import check_model
from ..datasets import DatasetSpec, check_setting_data, check_transfer
from ..errors import ConfigError
from ..regimes import SETTLED
from .files import validate
from .layers import deep_merge

SETTING_FORMAT_VERSION = 1


def resolve_setting(
    name: str,
    stack: list[tuple[str, str, dict]],
    paper_layers: int,
    context: dict,
) -> tuple[dict, list[tuple[str, str, dict]]]:
    """Setting ``name`` from its ``stack`` of layers (file, key path, partial setting; the first
    ``paper_layers`` are its paper file's), on its dataset's stand-in where the offline layer names one
    (``data.standins``, with this setting's or its family's exception). ``context``: ``schema`` (of a
    setting), ``datasets``, ``standins``, ``family_of`` (a variant's family), ``scale``, ``fit_tolerance``.
    Returns the setting and its layers, the stand-in's changes last."""
    merged = merge_layers(stack)
    paper_dataset = merge_layers(stack[:paper_layers]).get("data", {}).get("dataset")
    where = " + ".join(sorted({w for w, _, _ in stack}))
    validate(merged, context["schema"], where, f"settings.{name}")
    layers = list(stack)
    entry = context["standins"].get(merged["data"]["dataset"])
    if entry is not None:
        exceptions = entry.get("settings") or {}
        exception = exceptions.get(name, exceptions.get(context["family_of"].get(name), {}))
        moved = apply_standin(merged, entry, exception, context["datasets"])
        layers.append(("config", f"data.standins.{merged['data']['dataset']}", changed_keys(merged, moved)))
        merged = moved
        where += " + config: data.standins"
        validate(merged, context["schema"], where, f"settings.{name}")
    datasets = context["datasets"]
    check_setting_data(merged["data"], datasets, f"{where}: settings.{name}.data")
    check_transfer(merged, datasets[merged["data"]["dataset"]], f"{where}: settings.{name}.measure.transfer")
    setting = finalise(name, merged, context["scale"], where, context["fit_tolerance"])
    setting["paper_dataset"] = paper_dataset
    return setting, layers


def merge_layers(stack: list[tuple[str, str, dict]]) -> dict:
    """The partial settings of ``stack`` merged in order; a layer naming another architecture replaces the
    model block instead of merging into it."""
    merged: dict = {}
    for _, _, partial in stack:
        arch = partial.get("model", {}).get("arch")
        if arch and merged.get("model", {}).get("arch") not in (None, arch):
            merged = {**merged, "model": {}}
        merged = deep_merge(merged, partial)
    return merged


def changed_keys(before: dict, after: dict) -> dict:
    """The keys of ``after`` whose values differ from ``before``'s, nested as in ``after``."""
    out = {}
    for key, value in after.items():
        if isinstance(value, dict) and isinstance(before.get(key), dict):
            inner = changed_keys(before[key], value)
            if inner:
                out[key] = inner
        elif key not in before or before[key] != value:
            out[key] = value
    return out


def checkpoint_epochs(spec: list[int] | dict, epochs: int) -> list[int]:
    """Resolve a checkpoint spec to a sorted list of epochs in ``[0, epochs]``.

    A list is taken as given. A dict ``{log: n, every: m}`` gives epoch 0, ``n`` log-spaced epochs
    in ``[1, epochs]`` (rounded, deduplicated), every ``m``-th epoch, and always the last epoch.
    """
    if isinstance(spec, list):
        return sorted(set(spec))
    import numpy as np

    chosen = {0, epochs}
    n_log = spec.get("log", 0)
    if n_log:
        chosen.update(int(round(e)) for e in np.geomspace(1, epochs, n_log))
    every = spec.get("every")
    if every:
        chosen.update(range(every, epochs + 1, every))
    return sorted(chosen)


def apply_standin(setting: dict, entry: dict, exception: dict, datasets: dict[str, DatasetSpec]) -> dict:
    """``setting`` on the stand-in of its dataset (``data.standins.<dataset>``; the exception, a partial
    setting for this setting, may name another stand-in in its ``data.dataset`` and is merged last).

    The stand-in's images keep the geometry the setting asks of the paper's dataset: a ``data.shape``
    becomes the stand-in's channels at that height and width (grown by the entry's ``resize``, shrunk by
    interpolation), no shape keeps the stand-in's native size; ``per_class`` is capped at the stand-in's
    smallest class; a blur kernel is scaled by the ratio of the native image heights, to the nearest odd
    size (Perturb Fig. 6's 9x9 of MNIST's 28x28 is 3x3 on digits' 8x8)."""
    data = dict(setting["data"])
    paper = datasets[data["dataset"]]
    stand = datasets[exception.get("data", {}).get("dataset", entry["dataset"])]
    data["dataset"] = stand.name
    if data.get("shape") is not None:
        _, h, w = data["shape"]
        data["shape"] = [stand.shape[0], h, w]
        grows = h >= stand.shape[1] and w >= stand.shape[2]
        data["resize"] = entry.get("resize", "interpolate") if grows else "interpolate"
    if data.get("per_class") is not None and stand.min_per_class is not None:
        data["per_class"] = min(data["per_class"], stand.min_per_class)
    if data.get("blur"):
        scaled = data["blur"]["kernel"] * stand.shape[1] / paper.shape[1]
        data["blur"] = {**data["blur"], "kernel": max(1, 2 * round((scaled - 1) / 2) + 1)}
    return deep_merge({**setting, "data": data}, exception)


def finalise(name: str, setting: dict, scale: str, where: str, fit_tolerance: float) -> dict:
    """Semantic checks the schema cannot express, and derived fields (``train.until``'s tolerance of fitting:
    the claims' ``fit_tolerance`` unless set)."""
    train = setting["train"]
    epochs = train["epochs"]
    if "until" in train:
        _check_until(train, fit_tolerance, f"{where}: settings.{name}.train")
    _check_devices(train, f"{where}: settings.{name}.train")
    for i, m in enumerate(train.get("milestones", [])):
        if m > epochs:
            raise ConfigError(f"{where}: settings.{name}.train.milestones.{i}: {m} is after the last epoch {epochs}")
    setting["checkpoints"] = checkpoint_epochs(setting["checkpoints"], epochs)
    for i, e in enumerate(setting["checkpoints"]):
        if e > epochs:
            raise ConfigError(f"{where}: settings.{name}.checkpoints.{i}: epoch {e} is after the last epoch {epochs}")
    check_model(setting, f"{where}: settings.{name}")
    # Keys of other optimisers than the one in use would only mislead a reader of the resolved setting.
    for key, optimizer in OPTIMIZER_KEYS.items():
        if train["optimizer"] != optimizer:
            train.pop(key, None)
    setting["name"] = name
    setting["scale"] = scale
    setting["format_version"] = SETTING_FORMAT_VERSION
    return setting


UNTIL_KEYS = {"fit": ("window", "checkpoints", "share", "tolerance"), "settle": ("rtol",)}


def _check_until(train: dict, fit_tolerance: float, where: str) -> None:
    """``train.until``: a cap after ``epochs``, the keys of its regime only (fit: at least one window), no
    layer-wise schedule (it has no epochs beyond its layers); the tolerance of ``fit`` defaults to the
    claims' ``fit_tolerance`` (so that training stops where the figures' gates read the regime), the
    ``rtol`` of ``settle`` to theirs (:data:`ncrepro.regimes.SETTLED`)."""
    until = train["until"]
    if until["max_epochs"] <= train["epochs"]:
        raise ConfigError(f"{where}.until.max_epochs: {until['max_epochs']} is not after epochs {train['epochs']}")
    if "layerwise" in train:
        raise ConfigError(f"{where}.until: a layer-wise schedule (train.layerwise) cannot go on past its layers")
    wrong = [k for k in UNTIL_KEYS["fit" if until["regime"] == "settle" else "settle"] if k in until]
    if wrong:
        raise ConfigError(f"{where}.until.{wrong[0]}: not a key of regime {until['regime']}")
    if until["regime"] == "fit":
        if not {"window", "checkpoints", "share"} & set(until):
            raise ConfigError(f"{where}.until: regime fit needs a window, checkpoints or share")
        until.setdefault("tolerance", fit_tolerance)
    else:
        until.setdefault("rtol", SETTLED)


def _check_devices(train: dict, where: str) -> None:
    """``train.devices`` N > 1 (:mod:`ncrepro.distributed`): each process takes batch_size / N of a global
    batch, so N divides batch_size; L-BFGS (its line search reads the whole batch's loss) and a layer-wise
    schedule (a fresh set of trained parameters per layer) train on one device."""
    devices = train.get("devices", 1)
    if devices == 1:
        return
    if train["batch_size"] % devices:
        raise ConfigError(f"{where}.devices: batch_size {train['batch_size']} does not divide into {devices} devices")
    if train["optimizer"] == "lbfgs":
        raise ConfigError(f"{where}.devices: lbfgs trains on one device")
    if "layerwise" in train:
        raise ConfigError(f"{where}.devices: a layer-wise schedule (train.layerwise) trains on one device")


OPTIMIZER_KEYS = {"momentum": "sgd", "nesterov": "sgd", "betas": "adam", "history_size": "lbfgs", "max_iter": "lbfgs"}
