"""Configuration: the workflow config, the paper settings, the scale layers and the overrides, resolved.

:func:`load` is a short pipeline: read the workflow config (:func:`.layers.read_workflow`) -> read every
layer into one stack per setting (:func:`.layers.read_layers`; the order of the layers is in
:mod:`.layers`) -> merge each stack into its setting, on its stand-in (:func:`.settings.resolve_setting`)
-> check the figures and targets against the settings and the figure catalogue. The files and their
schemas: :mod:`.files`; the result: :class:`.resolved.Resolved`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..digests import run_key, setting_digest
from ..errors import ConfigError
from .files import load_yaml, schema, shipped_config
from .layers import PAPERS, SCALES, Layers, deep_merge, read_layers, read_workflow, sweep_variants
from .resolved import Figure, Resolved
from .settings import apply_standin, checkpoint_epochs, resolve_setting

__all__ = [
    "PAPERS",
    "SCALES",
    "ConfigError",
    "Figure",
    "Resolved",
    "apply_standin",
    "checkpoint_epochs",
    "deep_merge",
    "load",
    "load_file",
    "run_key",
    "setting_digest",
    "shipped_config",
    "sweep_variants",
]


def load(config: dict | None = None, config_dirs: Iterable[Path | str] = ()) -> Resolved:
    """Validate ``config`` (the workflow config dict; default the shipped ``config/config.yaml``) and
    resolve every paper setting at the configured scale. ``config_dirs``: the folders of the config files
    in use, where ``papers/`` and ``scales/`` are looked up first (:func:`.files.config_file`).

    Raises :class:`ConfigError` (one line, names the key path) on any problem.
    """
    workflow = read_workflow(config)
    layers = read_layers(workflow, [Path(d) for d in config_dirs])
    context = {
        "schema": schema("setting"),
        "datasets": workflow.datasets,
        "standins": workflow.standins,
        "family_of": layers.family_of,
        "scale": workflow.config["scale"],
        "fit_tolerance": workflow.claims["fit_tolerance"],
    }
    settings, setting_layers = {}, {}
    for name, stack in layers.stacks.items():
        settings[name], setting_layers[name] = resolve_setting(name, stack, layers.paper_layers[name], context)
    check_figures(layers, settings)
    check_targets(workflow.config["targets"], layers)
    return Resolved(
        scale=workflow.config["scale"],
        data=workflow.config["data"],
        device=workflow.config["device"],
        threads=workflow.config["threads"],
        targets=list(workflow.config["targets"]),
        papers=layers.papers,
        settings=settings,
        figures=layers.figures,
        surrogates=layers.surrogates,
        resources=layers.resources,
        datasets=workflow.datasets,
        claims=workflow.claims,
        layers=setting_layers,
        surrogate_layers=layers.surrogate_layers,
        paper_files=layers.paper_files,
    )


def check_figures(layers: Layers, settings: dict[str, dict]) -> None:
    """Every figure names known settings and solves (its kind is one of the paper schema's, which lists the
    figure catalogue's kinds: :func:`ncrepro.figures.catalogue.check_kinds` checks what each kind reads)."""
    for fig in layers.figures.values():
        at = f"{layers.paper_files[fig.paper]}: figures.{fig.id}"
        for name in fig.settings:
            if name not in settings:
                raise ConfigError(f"{at}.settings: unknown setting {name!r}")
        for name in fig.surrogates:
            if name not in layers.surrogates:
                raise ConfigError(f"{at}.surrogates: unknown surrogate {name!r}")


def check_targets(targets: list[str], layers: Layers) -> None:
    """The config's ``targets`` are implemented figure ids."""
    for i, target in enumerate(targets):
        if target not in layers.figures:
            raise ConfigError(f"config: targets.{i}: unknown figure id {target!r}")
        if not layers.figures[target].implemented:
            raise ConfigError(f"config: targets.{i}: figure {target!r} is pending (no figure kind builds it yet)")


def load_file(paths: Path | str | list | None = None, scale: str | None = None) -> Resolved:
    """:func:`load` of workflow config files merged in order, as Snakemake merges ``--configfile`` files
    (default the shipped ``config/config.yaml``), optionally at ``scale``; their folders hold the paper and
    scale files."""
    paths = [paths] if isinstance(paths, str | Path) else paths or [shipped_config() / "config.yaml"]
    config: dict = {}
    for path in paths:
        layer = load_yaml(Path(path))
        if not isinstance(layer, dict):
            raise ConfigError(f"{path}: <top level>: must be a mapping")
        config = deep_merge(config, layer)
    if scale:
        config["scale"] = scale
    return load(config, [Path(path).parent for path in paths])
