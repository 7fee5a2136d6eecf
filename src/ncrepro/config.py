"""Configuration: the workflow config, paper settings, scale layers and the figure registry.

Layers, merged in this order (dicts merge key by key, lists and scalars replace):

1. ``papers/<paper>.yaml``: ``defaults`` then ``settings.<name>`` -- the paper's exact recipe
   (scale ``paper``);
2. ``scales/<scale>.yaml`` ``settings.<name>`` (scales ``quick`` and ``smoke`` only);
3. ``overrides.settings.<name>`` of the workflow config (a user's one-off changes); ``overrides.figures.<id>.plot``
   changes one figure's plotting options (config ``plot:`` < the paper file's figure ``plot:`` < overrides);
4. ``data.standins`` (``config/offline.yaml``): a setting whose dataset has a stand-in trains on it
   instead (:func:`apply_standin`), at every scale.

A setting's dataset is a registered one (:data:`ncrepro.datasets.DATASETS`) or a user's own
(``data.custom``, probed when the configuration loads: its classes, image shape and smallest class).

The paper and scale files are read from the folder of the config file in use (``config/papers/``,
``config/scales/`` beside ``config/config.yaml``, as a deployed ``config/`` holds them), else from the
copies the project ships (:func:`shipped_config`), so a workflow deployed elsewhere or a non-editable
install finds them.

Every layer is validated against the package's ``schemas/*.schema.yaml`` before merging, so a bad key is
reported with the file and key path it came from, in one line (:class:`ConfigError`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .datasets import DATASETS, DatasetSpec, probe_custom
from .errors import DataError

PAPERS = ("pfc", "perturb", "ulpm", "dufm", "review")
SCALES = ("paper", "quick", "smoke")
SETTING_FORMAT_VERSION = 1


class ConfigError(ValueError):
    """A configuration problem, described in one line that names the offending key path."""


def shipped_config() -> Path:
    """The project's own ``config/`` folder: the checkout's when the package runs from one (``src/`` layout,
    editable install), else the copy a non-editable install carries as ``ncrepro/_config`` (pyproject)."""
    package = Path(__file__).resolve().parent
    if package.parent.name == "src" and (package.parents[1] / "config" / "papers").is_dir():
        return package.parents[1] / "config"
    return Path(str(resources.files("ncrepro") / "_config"))


def _config_file(relative: str, config_dirs: Iterable[Path]) -> Path:
    """``relative`` (e.g. ``papers/pfc.yaml``) in the folder of the config file in use -- the last given
    first -- else in :func:`shipped_config`."""
    for folder in [*reversed([Path(d) for d in config_dirs]), shipped_config()]:
        if (folder / relative).is_file():
            return folder / relative
    return shipped_config() / relative


def _where(path: Path) -> str:
    """``path`` as error messages name it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _load_yaml(path: Path) -> Any:
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc


def _schema_dir() -> Path:
    return Path(str(resources.files("ncrepro") / "schemas"))


def _schema(name: str) -> dict:
    return _load_yaml(_schema_dir() / f"{name}.schema.yaml")


def _drop_required(schema: Any) -> Any:
    """The same schema with every ``required`` list removed (for partial override layers)."""
    if isinstance(schema, dict):
        return {k: _drop_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_drop_required(v) for v in schema]
    return schema


def _key_path(prefix: str, path) -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in path]
    return ".".join(parts) or "<top level>"


def _validate(instance: Any, schema: dict, where: str, prefix: str) -> None:
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/anyOf to the most specific message.
    while err.context:
        err = jsonschema.exceptions.best_match(err.context)
    message = err.message
    if err.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown key")
    raise ConfigError(f"{where}: {_key_path(prefix, err.absolute_path)}: {message}")


@functools.cache
def _registry():
    """A referencing registry so that ``$ref: scale.schema.yaml`` resolves between schema files."""
    from referencing import Registry, Resource

    paths = sorted(_schema_dir().glob("*.schema.yaml"))
    return Registry().with_resources([(path.name, Resource.from_contents(_load_yaml(path))) for path in paths])


def deep_merge(base: dict, update: dict) -> dict:
    """Merge ``update`` into a copy of ``base``: dicts recursively, everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
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


# What names or describes a setting without changing its runs.
NOT_RECIPE = ("name", "description", "paper_dataset")


def run_key(setting: dict) -> str:
    """The digest of what a setting's runs depend on: the resolved setting without :data:`NOT_RECIPE` (and
    without ``data.resize`` where no ``data.shape`` asks for a resize)."""
    recipe = {k: v for k, v in setting.items() if k not in NOT_RECIPE}
    if recipe["data"].get("shape") is None:
        recipe["data"] = {k: v for k, v in recipe["data"].items() if k != "resize"}
    return setting_digest(recipe)


def setting_digest(setting: dict) -> str:
    """A short stable hash of a resolved setting (what a checkpoint was made with)."""
    blob = json.dumps(setting, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class Figure:
    """One figure or table of a paper, as declared in its paper file."""

    id: str
    paper: str
    number: str
    caption: str
    kind: str | None = None  # the figure kind that builds it (ncrepro.figures); None: pending
    settings: list[str] = field(default_factory=list)
    surrogates: list[str] = field(default_factory=list)
    plot: dict = field(default_factory=dict)  # resolved plotting options (config plot < paper < overrides)
    read_epoch: int | None = None  # a table's epoch (the last measured epoch not after it)
    gram_layers: list[str] = field(default_factory=list)  # per setting, the layer of a Gram-matrix panel

    @property
    def implemented(self) -> bool:
        return self.kind is not None


@dataclass
class Resolved:
    """The validated, merged configuration of one workflow invocation."""

    scale: str
    data: dict
    device: str
    threads: int
    targets: list[str]
    papers: dict[str, dict]
    settings: dict[str, dict]
    figures: dict[str, Figure]
    surrogates: dict[str, dict] = field(default_factory=dict)
    resources: dict[str, dict] = field(default_factory=dict)  # scheduler requests per rule
    datasets: dict[str, DatasetSpec] = field(default_factory=lambda: dict(DATASETS))  # registered + data.custom
    claims: dict = field(default_factory=dict)  # how claims read the runs (config `claims:`)

    def setting(self, name: str) -> dict:
        try:
            return self.settings[name]
        except KeyError:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(self.settings))}") from None

    def surrogate(self, name: str) -> dict:
        try:
            return self.surrogates[name]
        except KeyError:
            raise ConfigError(f"unknown surrogate {name!r}; known: {', '.join(sorted(self.surrogates))}") from None

    def figure(self, fig_id: str) -> Figure:
        try:
            return self.figures[fig_id]
        except KeyError:
            raise ConfigError(self.figure_id_problem(fig_id)) from None

    def figure_id_problem(self, fig_id: str) -> str:
        """One line on why ``fig_id`` cannot be built: unknown (with the closest ids) or pending."""
        import difflib

        if fig_id in self.figures:
            return f"figure {fig_id!r} is pending: no figure kind builds it yet (`ncrepro list-figures`)"
        close = difflib.get_close_matches(fig_id, self.implemented_figures(), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return f"unknown figure id {fig_id!r}; {hint}`ncrepro list-figures` lists them all"

    def implemented_figures(self) -> list[str]:
        return [f for f, fig in self.figures.items() if fig.implemented]

    def run_of(self, name: str) -> str:
        """The setting whose runs stand for ``name``'s: the first by name of the settings that resolve to
        the same recipe (:func:`run_key`), e.g. two rows of a figure on one stand-in dataset at the smoke
        scale. One training, statistics and metrics per recipe; each figure reads it under its own names."""
        if not hasattr(self, "_run_of"):
            by_key: dict[str, str] = {}
            for other in sorted(self.settings):
                by_key.setdefault(run_key(self.settings[other]), other)
            self._run_of = {other: by_key[run_key(s)] for other, s in self.settings.items()}
        self.setting(name)
        return self._run_of[name]

    def figure_meta(self, fig_id: str) -> dict:
        """Everything a figure's plot, claims and footer read: id, paper, number, caption, scale, its
        resolved settings and solves, and the classes, image shape and origin of the datasets its
        settings train on."""
        fig = self.figure(fig_id)
        settings = {name: self.setting(name) for name in fig.settings}
        datasets = [self.datasets[name] for name in sorted({s["data"]["dataset"] for s in settings.values()})]
        return {
            "id": fig.id,
            "paper": fig.paper,
            "number": fig.number,
            "caption": fig.caption,
            "scale": self.scale,
            "settings": settings,
            "setting_order": fig.settings,
            "shared_runs": {name: self.run_of(name) for name in fig.settings if self.run_of(name) != name},
            "surrogates": {name: self.surrogate(name) for name in fig.surrogates},
            "plot": fig.plot,
            "read_epoch": fig.read_epoch,
            "gram_layers": fig.gram_layers,
            "fit_tolerance": self.claims.get("fit_tolerance"),
            "datasets": {
                d.name: {"num_classes": d.num_classes, "shape": list(d.shape), "custom": d.path is not None}
                for d in datasets
            },
        }


def kinds() -> dict:
    """The figure kinds (:func:`ncrepro.figures.registry`, read without importing the paper modules)."""
    from .figures import registry

    return registry()


def load(config: dict | None = None, config_dirs: Iterable[Path | str] = ()) -> Resolved:
    """Validate ``config`` (the workflow config dict; default the shipped ``config/config.yaml``) and
    resolve every paper setting at the configured scale. ``config_dirs``: the folders of the config files
    in use, where ``papers/`` and ``scales/`` are looked up first (:func:`_config_file`).

    Raises :class:`ConfigError` (one line, names the key path) on any problem.
    """
    if config is None:
        config = _load_yaml(shipped_config() / "config.yaml")
    if not isinstance(config, dict):
        raise ConfigError("config: <top level>: must be a mapping")
    config = _coerce(copy.deepcopy(config), _schema("config"))
    config.setdefault("targets", [])
    config.setdefault("overrides", {})
    _validate(config, _schema("config"), "config", "")
    # resources and plot: config/config.yaml holds the defaults; a config dict may set a part.
    shipped = _load_yaml(shipped_config() / "config.yaml")
    # resources: the shipped (paper-sized) requests < the scale file's < what the user's config changes
    own = {
        rule: {k: v for k, v in job.items() if shipped["resources"].get(rule, {}).get(k) != v}
        for rule, job in config.get("resources", {}).items()
    }
    plot = deep_merge(shipped["plot"], config.get("plot", {}))
    claims = deep_merge(shipped["claims"], config.get("claims", {}))
    datasets = dict(DATASETS)
    for name, entry in (config["data"].get("custom") or {}).items():
        try:
            datasets[name] = probe_custom(name, entry)
        except DataError as exc:
            raise ConfigError(f"config: data.custom.{name}: {exc}") from None
    standins = config["data"].get("standins") or {}
    for name, entry in standins.items():
        if entry["dataset"] not in datasets or entry["dataset"] in standins:
            why = "is itself stood in" if entry["dataset"] in standins else "is not a registered dataset or data.custom"
            raise ConfigError(f"config: data.standins.{name}.dataset: {entry['dataset']!r} {why}")

    paper_schema = _schema("paper")
    setting_schema = _schema("setting")
    partial_schema = _drop_required(setting_schema)
    scale_schema = _schema("scale")

    scale = config["scale"]
    override_layers = []
    scale_resources: dict = {}
    if scale != "paper":
        path = _config_file(f"scales/{scale}.yaml", config_dirs)
        where = _where(path)
        doc = _load_yaml(path) or {}
        _validate(doc, scale_schema, where, "")
        override_layers.append((where, doc))
        scale_resources = doc.get("resources", {})
    override_layers.append(("config", config["overrides"]))
    swept = _sweep_overrides(override_layers)

    papers: dict[str, dict] = {}
    layers: dict[str, list[tuple[str, str, dict]]] = {}
    paper_layer_count: dict[str, int] = {}
    families: dict[str, list[str]] = {}  # a setting with variants -> its variants' full names
    figures: dict[str, Figure] = {}
    surrogates: dict[str, dict] = {}
    paper_files: dict[str, str] = {}  # paper -> its file, as error messages name it
    for paper in PAPERS:
        path = _config_file(f"papers/{paper}.yaml", config_dirs)
        where = paper_files[paper] = _where(path)
        doc = _load_yaml(path)
        _validate(doc, paper_schema, where, "")
        if doc["paper"] != paper:
            raise ConfigError(f"{where}: paper: must be {paper!r}, got {doc['paper']!r}")
        papers[paper] = doc
        defaults = doc.get("defaults", {})
        _validate(defaults, partial_schema, where, "defaults")
        for name, partial in doc["settings"].items():
            partial = dict(partial)
            variants = partial.pop("variants", None)
            sweep = partial.pop("sweep", None)
            if sweep is not None:
                variants = sweep_variants(sweep, swept.pop(name, None), f"{where}: settings.{name}.sweep", variants)
            _validate(partial, partial_schema, where, f"settings.{name}")
            paper_layers = [(where, "defaults", defaults), (where, f"settings.{name}", partial)]
            if variants is None:
                expanded = {name: paper_layers}
            else:
                if not isinstance(variants, dict) or not variants:
                    raise ConfigError(f"{where}: settings.{name}.variants: must be a non-empty mapping")
                expanded = {}
                for variant, patch in variants.items():
                    _validate(patch or {}, partial_schema, where, f"settings.{name}.variants.{variant}")
                    key = f"settings.{name}.variants.{variant}"
                    expanded[f"{name}_{variant}"] = [*paper_layers, (where, key, patch or {})]
                families[name] = list(expanded)
            for full, stack in expanded.items():
                if full in layers:
                    raise ConfigError(f"{where}: settings.{full}: setting defined twice")
                layers[full] = stack
                paper_layer_count[full] = len(stack)
        for name, spec in doc.get("surrogates", {}).items():
            if name in surrogates:
                raise ConfigError(f"{where}: surrogates.{name}: surrogate defined twice")
            surrogates[name] = copy.deepcopy(spec)
        for fig_id, fig in doc["figures"].items():
            if not fig_id.startswith(paper + "_"):
                raise ConfigError(f"{where}: figures.{fig_id}: figure ids of {paper} start with '{paper}_'")
            fig = dict(fig)
            # A setting family (a setting with variants) stands for all its variants, in order.
            fig["settings"] = [v for s in fig.get("settings", []) for v in families.get(s, [s])]
            fig["plot"] = deep_merge(plot, fig.get("plot", {}))
            if "gram_layers" in fig and len(fig["gram_layers"]) != len(fig["settings"]):
                raise ConfigError(
                    f"{where}: figures.{fig_id}.gram_layers: one layer per setting ({len(fig['settings'])})"
                )
            figures[fig_id] = Figure(id=fig_id, paper=paper, **fig)

    family_of = {variant: family for family, variants in families.items() for variant in variants}
    for dataset, entry in standins.items():
        for name, partial in (entry.get("settings") or {}).items():
            where = f"data.standins.{dataset}.settings.{name}"
            if name not in layers and name not in families:
                raise ConfigError(f"config: {where}: unknown setting")
            _validate(partial, partial_schema, "config", where)

    if swept:
        name, (_, where) = next(iter(swept.items()))
        raise ConfigError(f"{where}.{name}.sweep: {name} is not a setting with a sweep in its paper file")
    if config["overrides"].get("resources"):
        raise ConfigError("config: overrides.resources: resources are set at the top level of the config")
    resources = deep_merge(deep_merge(shipped["resources"], scale_resources), own)
    for where, doc in override_layers:
        prefix = "overrides.settings" if where == "config" else "settings"
        entries = doc.get("settings", {})
        # A family's layer first, then its variants' own layers, whatever their order in the file.
        for name in sorted(entries, key=lambda n: n not in families):
            partial = {k: v for k, v in entries[name].items() if k != "sweep"}  # read by _sweep_overrides
            partial = _coerce(partial, partial_schema) if where == "config" else partial
            targets = families.get(name, [name] if name in layers else [])
            if not targets:
                raise ConfigError(f"{where}: {prefix}.{name}: unknown setting")
            _validate(partial, partial_schema, where, f"{prefix}.{name}")
            for target in targets:
                layers[target].append((where, f"{prefix}.{name}", partial))
        for name, partial in doc.get("surrogates", {}).items():
            if name not in surrogates:
                raise ConfigError(f"{where}: {prefix.replace('settings', 'surrogates')}.{name}: unknown surrogate")
            surrogates[name] = deep_merge(surrogates[name], partial)
        for fig_id, options in doc.get("figures", {}).items():
            if fig_id not in figures:
                raise ConfigError(f"{where}: {prefix.replace('settings', 'figures')}.{fig_id}: unknown figure id")
            figures[fig_id].plot = deep_merge(figures[fig_id].plot, options.get("plot", {}))
    for name, spec in surrogates.items():
        spec.update(name=name, scale=scale)

    settings: dict[str, dict] = {}
    for name, stack in layers.items():
        merged: dict = {}
        for i, (_, _, partial) in enumerate(stack):
            arch = partial.get("model", {}).get("arch")
            if arch and merged.get("model", {}).get("arch") not in (None, arch):
                # Another architecture replaces the model block instead of merging into it.
                merged = {**merged, "model": {}}
            merged = deep_merge(merged, partial)
            if i == paper_layer_count[name] - 1:  # the paper's own layers end here
                paper_dataset = merged.get("data", {}).get("dataset")
        where = " + ".join(sorted({w for w, _, _ in stack}))
        _validate(merged, setting_schema, where, f"settings.{name}")
        entry = standins.get(merged["data"]["dataset"])
        if entry is not None:
            exceptions = entry.get("settings") or {}
            exception = exceptions.get(name, exceptions.get(family_of.get(name), {}))
            merged = apply_standin(merged, entry, exception, datasets)
            where += " + config: data.standins"
            _validate(merged, setting_schema, where, f"settings.{name}")
        _check_dataset(merged["data"], datasets, f"{where}: settings.{name}.data")
        _check_transfer(merged, datasets[merged["data"]["dataset"]], f"{where}: settings.{name}.measure.transfer")
        settings[name] = _finalise(name, merged, scale, where, claims["fit_tolerance"])
        settings[name]["paper_dataset"] = paper_dataset

    for fig in figures.values():
        for name in fig.settings:
            if name not in settings:
                raise ConfigError(f"{paper_files[fig.paper]}: figures.{fig.id}.settings: unknown setting {name!r}")
        for name in fig.surrogates:
            if name not in surrogates:
                raise ConfigError(f"{paper_files[fig.paper]}: figures.{fig.id}.surrogates: unknown surrogate {name!r}")
        if fig.kind and fig.kind not in kinds():
            raise ConfigError(f"{paper_files[fig.paper]}: figures.{fig.id}.kind: unknown figure kind {fig.kind!r}")
        if fig.kind and kinds()[fig.kind].reads and not fig.settings:
            raise ConfigError(f"{paper_files[fig.paper]}: figures.{fig.id}: kind {fig.kind} reads training runs")
    for i, target in enumerate(config["targets"]):
        if target not in figures:
            raise ConfigError(f"config: targets.{i}: unknown figure id {target!r}")
        if not figures[target].implemented:
            raise ConfigError(f"config: targets.{i}: figure {target!r} is pending (no figure kind builds it yet)")
    return Resolved(
        scale=scale,
        data=config["data"],
        device=config["device"],
        threads=config["threads"],
        targets=list(config["targets"]),
        papers=papers,
        settings=settings,
        figures=figures,
        surrogates=surrogates,
        resources=resources,
        datasets=datasets,
        claims=claims,
    )


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


def _check_dataset(data: dict, datasets: dict[str, DatasetSpec], where: str) -> None:
    """A setting's dataset is known, its class subset is of its classes, and its per-class count fits the
    smallest class."""
    spec = datasets.get(data["dataset"])
    if spec is None:
        raise ConfigError(
            f"{where}.dataset: unknown dataset {data['dataset']!r}; known: {', '.join(datasets)}"
            " (or register your own under data.custom)"
        )
    _check_classes(data.get("classes") or [], spec, f"{where}.classes")
    if data.get("per_class") and spec.min_per_class is not None and data["per_class"] > spec.min_per_class:
        raise ConfigError(
            f"{where}.per_class: {data['per_class']} is more than the smallest class of {spec.name}"
            f" ({spec.min_per_class} samples)"
        )


def _sweep_overrides(override_layers: list[tuple[str, dict]]) -> dict[str, tuple[list, str]]:
    """The sweep values a scale layer or the user's overrides set for a setting family (``settings.<family>.
    sweep.values``; the last layer wins), with where they were set."""
    out: dict[str, tuple[list, str]] = {}
    for where, doc in override_layers:
        prefix = "overrides.settings" if where == "config" else "settings"
        for name, entry in (doc.get("settings") or {}).items():
            sweep = entry.get("sweep") if isinstance(entry, dict) else None
            if sweep is None:
                continue
            if not isinstance(sweep, dict) or set(sweep) != {"values"} or not isinstance(sweep["values"], list):
                raise ConfigError(f"{where}: {prefix}.{name}.sweep: must be {{values: [...]}} (the key is the paper's)")
            if not sweep["values"]:
                raise ConfigError(f"{where}: {prefix}.{name}.sweep.values: must not be empty")
            out[name] = (sweep["values"], f"{where}: {prefix}")
    return out


def sweep_variants(sweep: dict, override: tuple[list, str] | None, where: str, variants: dict | None) -> dict:
    """The variants of a setting family that sweeps one key (``sweep: {key: train.lr, values: [...]}`` in a
    paper file): ``<leaf><i>`` (``lr1``, ``lr2``, ...) setting the key to the i-th value. A scale layer or the
    user's overrides may replace the values (``sweep: {values: [...]}``), e.g. a shorter grid at a CPU scale."""
    if variants is not None:
        raise ConfigError(f"{where}: a setting has variants or a sweep, not both")
    if not isinstance(sweep, dict) or set(sweep) != {"key", "values"} or not sweep["values"]:
        raise ConfigError(f"{where}: must be {{key: <section>.<key>, values: [...]}} with at least one value")
    values = override[0] if override else sweep["values"]
    *sections, leaf = str(sweep["key"]).split(".")
    if not sections or not re.fullmatch(r"[a-z_]+", leaf):
        raise ConfigError(f"{where}.key: {sweep['key']!r} is not a setting key path like train.lr")

    def patch(value):
        out: dict = {leaf: value}
        for section in reversed(sections):
            out = {section: out}
        return out

    return {f"{leaf.replace('_', '')}{i}": patch(value) for i, value in enumerate(values, start=1)}


def _check_classes(classes: list[int], spec: DatasetSpec, where: str) -> None:
    outside = [k for k in classes if k >= spec.num_classes]
    if outside:
        raise ConfigError(f"{where}: {outside} are not classes of {spec.name} (0 .. {spec.num_classes - 1})")


def _check_transfer(setting: dict, spec: DatasetSpec, where: str) -> None:
    """A transfer evaluation's target classes are classes of the dataset, none trained on, and hold an
    episode's ways and shots."""
    transfer = setting.get("measure", {}).get("transfer")
    if not transfer:
        return
    targets = transfer["classes"]
    _check_classes(targets, spec, f"{where}.classes")
    trained = set(setting["data"].get("classes") or range(spec.num_classes)) & set(targets)
    if trained:
        raise ConfigError(f"{where}.classes: {sorted(trained)} are training classes too; targets are unseen classes")
    if transfer["ways"] > len(targets):
        raise ConfigError(f"{where}.ways: {transfer['ways']} ways from {len(targets)} target classes")
    if spec.min_per_class is not None and transfer["shots"] > spec.min_per_class:
        raise ConfigError(
            f"{where}.shots: {transfer['shots']} shots, the smallest class of {spec.name} has {spec.min_per_class}"
        )


def _scalar(text: str, types) -> Any:
    """``text`` read as the first of the schema ``types`` it parses as (integer, number, boolean, null),
    else None."""
    for kind in [types] if isinstance(types, str) else types:
        try:
            if kind == "integer" and text.strip().lstrip("+-").isdigit():
                return int(text)
            if kind == "number":
                return float(text)
            if kind == "boolean" and text.strip().lower() in ("true", "false"):
                return text.strip().lower() == "true"
        except ValueError:
            continue
    return None


def _coerce(instance: Any, schema: dict) -> Any:
    """``instance`` with every string that stands where the schema wants a number, an integer or a boolean
    converted (``--config key=value`` hands nested values over as text, e.g. ``lr: '0.02'``); what does
    not convert is left for validation to report."""
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    seen = set()
    while True:
        candidates = []
        for error in validator.iter_errors(instance):
            candidates += [e for e in [error, *error.context] if e.validator == "type" and isinstance(e.instance, str)]
        for error in candidates:
            path, value = tuple(error.absolute_path), _scalar(error.instance, error.validator_value)
            if value is None or not path or path in seen:
                continue
            seen.add(path)
            parent = instance
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            break
        else:
            return instance


def load_file(paths: Path | str | list | None = None, scale: str | None = None) -> Resolved:
    """:func:`load` of workflow config files merged in order, as Snakemake merges ``--configfile`` files
    (default the shipped ``config/config.yaml``), optionally at ``scale``; their folders hold the paper and
    scale files."""
    paths = [paths] if isinstance(paths, str | Path) else paths or [shipped_config() / "config.yaml"]
    config: dict = {}
    for path in paths:
        layer = _load_yaml(Path(path))
        if not isinstance(layer, dict):
            raise ConfigError(f"{path}: <top level>: must be a mapping")
        config = deep_merge(config, layer)
    if scale:
        config["scale"] = scale
    return load(config, [Path(path).parent for path in paths])


def _finalise(name: str, setting: dict, scale: str, where: str, fit_tolerance: float) -> dict:
    """Semantic checks the schema cannot express, and derived fields (``train.until``'s tolerance of fitting:
    the claims' ``fit_tolerance`` unless set)."""
    train = setting["train"]
    epochs = train["epochs"]
    if "until" in train:
        _check_until(train, fit_tolerance, f"{where}: settings.{name}.train")
    for i, m in enumerate(train.get("milestones", [])):
        if m > epochs:
            raise ConfigError(f"{where}: settings.{name}.train.milestones.{i}: {m} is after the last epoch {epochs}")
    setting["checkpoints"] = checkpoint_epochs(setting["checkpoints"], epochs)
    for i, e in enumerate(setting["checkpoints"]):
        if e > epochs:
            raise ConfigError(f"{where}: settings.{name}.checkpoints.{i}: epoch {e} is after the last epoch {epochs}")
    _check_model(setting, f"{where}: settings.{name}")
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
    from .regimes import SETTLED

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


OPTIMIZER_KEYS = {"momentum": "sgd", "nesterov": "sgd", "betas": "adam", "history_size": "lbfgs", "max_iter": "lbfgs"}

VGG_DEPTHS = (11, 13, 16, 19)  # torchvision's VGG configurations (ncrepro.models.VGG_CONFIGS)

# Keys each architecture needs, beyond ``arch``.
ARCH_REQUIRED = {
    "pfc_conv_resnet": ("stages",),
    "pfc_fc_resnet": ("width", "blocks"),
    "resnet": ("widths", "blocks"),
    "mlp": ("widths",),
    "vgg": (),
    "wide_resnet": ("depth", "widen_factor"),
    "densenet": ("depth", "growth_rate"),
}


def _check_model(setting: dict, where: str) -> None:
    """Architecture-dependent requirements of a merged setting, each a one-line :class:`ConfigError`."""
    model, train = setting["model"], setting["train"]
    arch = model["arch"]
    missing = [k for k in ARCH_REQUIRED[arch] if k not in model]
    if missing:
        raise ConfigError(f"{where}.model: {', '.join(missing)} required for {arch}")
    if arch == "pfc_fc_resnet" and not isinstance(model["blocks"], int):
        raise ConfigError(f"{where}.model.blocks: a number of blocks for pfc_fc_resnet")
    if arch == "resnet" and (not isinstance(model["blocks"], list) or len(model["blocks"]) != len(model["widths"])):
        raise ConfigError(f"{where}.model.blocks: one block count per entry of widths for resnet")
    if arch == "vgg" and model.get("depth") not in (None, *VGG_DEPTHS):
        raise ConfigError(f"{where}.model.depth: vgg depths are {', '.join(map(str, VGG_DEPTHS))}")
    if arch == "vgg" and (model.get("depth") is None) == (model.get("cfg") is None):
        raise ConfigError(f"{where}.model: vgg needs exactly one of depth and cfg (set the other to null)")
    if arch == "wide_resnet" and (model["depth"] is None or (model["depth"] - 4) % 6):
        raise ConfigError(f"{where}.model.depth: a Wide ResNet's depth is 6n + 4 (e.g. 28)")
    if arch == "densenet" and (model["depth"] is None or (model["depth"] - 4) % (6 if model.get("bc") else 3)):
        raise ConfigError(f"{where}.model.depth: a DenseNet's depth is 3n + 4 (DenseNet-BC: 6n + 4)")
    generic = arch in ("resnet", "vgg", "mlp", "wide_resnet", "densenet")
    if not generic and ({"head", "classifier_bias"} & model.keys() or train.get("feature_penalty")):
        raise ConfigError(
            f"{where}: head, classifier_bias and feature_penalty need arch resnet, vgg, wide_resnet, densenet or mlp"
        )
    layerwise = train.get("layerwise")
    if layerwise:
        per = layerwise["epochs_per_layer"]
        if arch != "mlp" or len(set(model["widths"])) != 1 or model.get("head", {}).get("layers", 1) != 1:
            raise ConfigError(f"{where}.train.layerwise: needs arch mlp with equal widths and a linear classifier")
        if train["epochs"] != per * len(model["widths"]):
            raise ConfigError(
                f"{where}.train.epochs: layer-wise training of {len(model['widths'])} layers x {per} epochs "
                f"needs epochs = {per * len(model['widths'])}, got {train['epochs']}"
            )
