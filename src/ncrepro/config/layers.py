"""The layers of the configuration, read into one stack of partial settings per setting.

Layers, merged in this order (dicts merge key by key, lists and scalars replace):

1. ``papers/<paper>.yaml``: ``defaults`` then ``settings.<name>`` (and ``variants.<v>`` or a ``sweep``'s
   value) -- the paper's exact recipe (scale ``paper``);
2. ``scales/<scale>.yaml`` ``settings.<name>`` (scales ``quick`` and ``smoke`` only);
3. ``overrides.settings.<name>`` of the workflow config (a user's one-off changes); ``overrides.figures.<id>.plot``
   changes one figure's plotting options (config ``plot:`` < the paper file's figure ``plot:`` < overrides);
4. ``data.standins`` (``config/offline.yaml``): a setting whose dataset has a stand-in trains on it
   instead (:func:`ncrepro.config.settings.apply_standin`), at every scale.

A setting's dataset is a registered one (:data:`ncrepro.datasets.DATASETS`) or a user's own
(``data.custom``, probed when the configuration loads: its classes, image shape and smallest class).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..datasets import DATASETS, DatasetSpec, probe_custom
from ..errors import ConfigError, DataError
from .files import coerce, config_file, drop_required, load_yaml, schema, shipped_config, validate, where
from .resolved import Figure

PAPERS = ("pfc", "perturb", "ulpm", "dufm", "review")
SCALES = ("paper", "quick", "smoke")

Layer = tuple[str, str, dict]  # (the file it is read from, its key path there, the partial setting it sets)


def deep_merge(base: dict, update: dict) -> dict:
    """Merge ``update`` into a copy of ``base``: dicts recursively, everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass
class Workflow:
    """The workflow config, validated, with the shipped defaults it leaves out: plotting options, how
    claims read the runs, resource requests (only what the user's config changes), and the datasets it
    registers (``data.custom``) and stands in (``data.standins``)."""

    config: dict
    plot: dict
    claims: dict
    own_resources: dict
    shipped_resources: dict
    datasets: dict[str, DatasetSpec]
    standins: dict


def read_workflow(config: dict | None) -> Workflow:
    """``config`` (default the shipped ``config/config.yaml``) validated, its text values coerced, its custom
    datasets probed and its stand-ins checked."""
    if config is None:
        config = load_yaml(shipped_config() / "config.yaml")
    if not isinstance(config, dict):
        raise ConfigError("config: <top level>: must be a mapping")
    config = coerce(copy.deepcopy(config), schema("config"))
    config.setdefault("targets", [])
    config.setdefault("overrides", {})
    validate(config, schema("config"), "config", "")
    shipped = load_yaml(shipped_config() / "config.yaml")
    # resources: the shipped (paper-sized) requests < the scale file's < what the user's config changes
    own = {
        rule: {k: v for k, v in job.items() if shipped["resources"].get(rule, {}).get(k) != v}
        for rule, job in config.get("resources", {}).items()
    }
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
    return Workflow(
        config=config,
        plot=deep_merge(shipped["plot"], config.get("plot", {})),
        claims=deep_merge(shipped["claims"], config.get("claims", {})),
        own_resources=own,
        shipped_resources=shipped["resources"],
        datasets=datasets,
        standins=standins,
    )


@dataclass
class Layers:
    """Every paper file read, and each setting's stack of layers."""

    papers: dict[str, dict] = field(default_factory=dict)
    paper_files: dict[str, str] = field(default_factory=dict)  # paper -> its file, as error messages name it
    stacks: dict[str, list[Layer]] = field(default_factory=dict)
    paper_layers: dict[str, int] = field(default_factory=dict)  # how many of a stack's layers are its paper's
    families: dict[str, list[str]] = field(default_factory=dict)  # a setting with variants -> their full names
    figures: dict[str, Figure] = field(default_factory=dict)
    surrogates: dict[str, dict] = field(default_factory=dict)
    surrogate_layers: dict[str, list[Layer]] = field(default_factory=dict)  # a solve's spec, layer by layer
    resources: dict[str, dict] = field(default_factory=dict)

    @property
    def family_of(self) -> dict[str, str]:
        return {variant: family for family, variants in self.families.items() for variant in variants}


def read_layers(workflow: Workflow, config_dirs: Iterable[Path]) -> Layers:
    """The paper files, the scale file (at a CPU scale) and the user's overrides, as one stack of layers
    per setting; surrogates and figures with their overrides applied."""
    config = workflow.config
    scale = config["scale"]
    override_layers: list[tuple[str, dict]] = []
    scale_resources: dict = {}
    if scale != "paper":
        path = config_file(f"scales/{scale}.yaml", config_dirs)
        doc = load_yaml(path) or {}
        validate(doc, schema("scale"), where(path), "")
        override_layers.append((where(path), doc))
        scale_resources = doc.get("resources", {})
    override_layers.append(("config", config["overrides"]))
    swept = sweep_overrides(override_layers)
    layers = Layers()
    for paper in PAPERS:
        read_paper(paper, config_file(f"papers/{paper}.yaml", config_dirs), workflow.plot, swept, layers)
    _check_standin_exceptions(workflow.standins, layers)
    if swept:
        name, (_, at) = next(iter(swept.items()))
        raise ConfigError(f"{at}.{name}.sweep: {name} is not a setting with a sweep in its paper file")
    if config["overrides"].get("resources"):
        raise ConfigError("config: overrides.resources: resources are set at the top level of the config")
    layers.resources = deep_merge(deep_merge(workflow.shipped_resources, scale_resources), workflow.own_resources)
    for at, doc in override_layers:
        apply_override_layer(at, doc, layers)
    for name, spec in layers.surrogates.items():
        spec.update(name=name, scale=scale)
    return layers


def read_paper(paper: str, path: Path, plot: dict, swept: dict, layers: Layers) -> None:
    """Paper file ``path``'s settings (with their variants or sweeps), surrogates and figures into ``layers``."""
    at = layers.paper_files[paper] = where(path)
    doc = load_yaml(path)
    validate(doc, schema("paper"), at, "")
    if doc["paper"] != paper:
        raise ConfigError(f"{at}: paper: must be {paper!r}, got {doc['paper']!r}")
    layers.papers[paper] = doc
    partial_schema = drop_required(schema("setting"))
    defaults = doc.get("defaults", {})
    validate(defaults, partial_schema, at, "defaults")
    for name, partial in doc["settings"].items():
        for full, stack in _paper_stacks(name, partial, defaults, at, swept, partial_schema, layers).items():
            if full in layers.stacks:
                raise ConfigError(f"{at}: settings.{full}: setting defined twice")
            layers.stacks[full] = stack
            layers.paper_layers[full] = len(stack)
    for name, spec in doc.get("surrogates", {}).items():
        if name in layers.surrogates:
            raise ConfigError(f"{at}: surrogates.{name}: surrogate defined twice")
        layers.surrogates[name] = copy.deepcopy(spec)
        layers.surrogate_layers[name] = [(at, f"surrogates.{name}", spec)]
    for fig_id, fig in doc["figures"].items():
        if not fig_id.startswith(paper + "_"):
            raise ConfigError(f"{at}: figures.{fig_id}: figure ids of {paper} start with '{paper}_'")
        fig = dict(fig)
        # A setting family (a setting with variants) stands for all its variants, in order.
        fig["settings"] = [v for s in fig.get("settings", []) for v in layers.families.get(s, [s])]
        fig["plot"] = deep_merge(plot, fig.get("plot", {}))
        if "gram_layers" in fig and len(fig["gram_layers"]) != len(fig["settings"]):
            raise ConfigError(f"{at}: figures.{fig_id}.gram_layers: one layer per setting ({len(fig['settings'])})")
        layers.figures[fig_id] = Figure(id=fig_id, paper=paper, **fig)


def _paper_stacks(
    name: str, partial: dict, defaults: dict, at: str, swept: dict, partial_schema: dict, layers: Layers
) -> dict[str, list[Layer]]:
    """The paper's layers of setting ``name``: one stack, or one per variant (``variants`` or a ``sweep``)."""
    partial = dict(partial)
    variants = partial.pop("variants", None)
    sweep = partial.pop("sweep", None)
    if sweep is not None:
        variants = sweep_variants(sweep, swept.pop(name, None), f"{at}: settings.{name}.sweep", variants)
    validate(partial, partial_schema, at, f"settings.{name}")
    paper_layers = [(at, "defaults", defaults), (at, f"settings.{name}", partial)]
    if variants is None:
        return {name: paper_layers}
    if not isinstance(variants, dict) or not variants:
        raise ConfigError(f"{at}: settings.{name}.variants: must be a non-empty mapping")
    expanded = {}
    for variant, patch in variants.items():
        validate(patch or {}, partial_schema, at, f"settings.{name}.variants.{variant}")
        expanded[f"{name}_{variant}"] = [*paper_layers, (at, f"settings.{name}.variants.{variant}", patch or {})]
    layers.families[name] = list(expanded)
    return expanded


def _check_standin_exceptions(standins: dict, layers: Layers) -> None:
    """Each stand-in's per-setting exceptions name a setting (or a family) and are partial settings."""
    partial_schema = drop_required(schema("setting"))
    for dataset, entry in standins.items():
        for name, partial in (entry.get("settings") or {}).items():
            at = f"data.standins.{dataset}.settings.{name}"
            if name not in layers.stacks and name not in layers.families:
                raise ConfigError(f"config: {at}: unknown setting")
            validate(partial, partial_schema, "config", at)


def apply_override_layer(at: str, doc: dict, layers: Layers) -> None:
    """A scale file's or the user's ``settings``, ``surrogates`` and ``figures`` (plot) on ``layers``."""
    prefix = "overrides.settings" if at == "config" else "settings"
    partial_schema = drop_required(schema("setting"))
    entries = doc.get("settings", {})
    # A family's layer first, then its variants' own layers, whatever their order in the file.
    for name in sorted(entries, key=lambda n: n not in layers.families):
        partial = {k: v for k, v in entries[name].items() if k != "sweep"}  # read by sweep_overrides
        partial = coerce(partial, partial_schema) if at == "config" else partial
        targets = layers.families.get(name, [name] if name in layers.stacks else [])
        if not targets:
            raise ConfigError(f"{at}: {prefix}.{name}: unknown setting")
        validate(partial, partial_schema, at, f"{prefix}.{name}")
        for target in targets:
            layers.stacks[target].append((at, f"{prefix}.{name}", partial))
    for name, partial in doc.get("surrogates", {}).items():
        if name not in layers.surrogates:
            raise ConfigError(f"{at}: {prefix.replace('settings', 'surrogates')}.{name}: unknown surrogate")
        layers.surrogates[name] = deep_merge(layers.surrogates[name], partial)
        layers.surrogate_layers[name].append((at, f"{prefix.replace('settings', 'surrogates')}.{name}", partial))
    for fig_id, options in doc.get("figures", {}).items():
        if fig_id not in layers.figures:
            raise ConfigError(f"{at}: {prefix.replace('settings', 'figures')}.{fig_id}: unknown figure id")
        layers.figures[fig_id].plot = deep_merge(layers.figures[fig_id].plot, options.get("plot", {}))


def sweep_overrides(override_layers: list[tuple[str, dict]]) -> dict[str, tuple[list, str]]:
    """The sweep values a scale layer or the user's overrides set for a setting family (``settings.<family>.
    sweep.values``; the last layer wins), with where they were set."""
    out: dict[str, tuple[list, str]] = {}
    for at, doc in override_layers:
        prefix = "overrides.settings" if at == "config" else "settings"
        for name, entry in (doc.get("settings") or {}).items():
            sweep = entry.get("sweep") if isinstance(entry, dict) else None
            if sweep is None:
                continue
            if not isinstance(sweep, dict) or set(sweep) != {"values"} or not isinstance(sweep["values"], list):
                raise ConfigError(f"{at}: {prefix}.{name}.sweep: must be {{values: [...]}} (the key is the paper's)")
            if not sweep["values"]:
                raise ConfigError(f"{at}: {prefix}.{name}.sweep.values: must not be empty")
            out[name] = (sweep["values"], f"{at}: {prefix}")
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
