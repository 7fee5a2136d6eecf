"""The resolved configuration of one workflow invocation (:class:`Resolved`) and a paper's figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..datasets import DATASETS, DatasetSpec
from ..digests import run_key
from ..errors import ConfigError


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
    # Each setting's layers, in merge order: (file, key path, the partial setting it sets) (ncrepro explain).
    layers: dict[str, list[tuple[str, str, dict]]] = field(default_factory=dict)
    surrogate_layers: dict[str, list[tuple[str, str, dict]]] = field(default_factory=dict)  # likewise, per solve
    paper_files: dict[str, str] = field(default_factory=dict)  # paper -> its file, as error messages name it

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
