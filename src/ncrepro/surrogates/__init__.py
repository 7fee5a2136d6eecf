"""Surrogate models of neural collapse (unconstrained-features models and their relatives), solved or
assembled in float64. One module per model:

- :mod:`ncrepro.surrogates.perturb`: the regularised bias-free UFM of Tirer et al. (Perturb eq. (1)) and
  the perturbation operator F of their Theorem 4.1 (Eq. 5) with its block spectra (App. D);
- :mod:`ncrepro.surrogates.mufm`: the UFM and PFC's multilayer UFM (MUFM) with MSE loss (PFC eq. (13);
  docs/papers/pfc-reading.md, "Fig. 4");
- :mod:`ncrepro.surrogates.ulpm`: gradient descent on the unconstrained layer-peeled model
  (docs/papers/ulpm-reading.md);
- :mod:`ncrepro.surrogates.dufm`: the deep UFM, its DNC and SRG solutions and closed-form losses,
  gradient descent batched over runs (DUFM eq. (1); docs/papers/dufm-reading.md);
- :mod:`ncrepro.surrogates.mixon`: Mixon et al.'s squared-error UFM and its strong-NC errors (Review §3.1.2,
  Fig. 3; docs/papers/review-reading.md);
- :mod:`ncrepro.surrogates.geodesic`: PFC's illustration of straight-line motion to the simplex ETF.

A *surrogate spec* (``surrogates:`` of a paper file) names a model of :data:`SOLVERS` and its
parameters; :func:`solve` runs it and returns a tidy table, the input of the figures built on it.
"""

from __future__ import annotations

import importlib
import inspect

import pandas as pd

from ..errors import ConfigError

# model -> (module, function); the function takes the spec's params as keyword arguments.
SOLVERS: dict[str, tuple[str, str]] = {
    "perturb_spectrum": ("ncrepro.surrogates.perturb", "spectrum_table"),
    "mufm_collapse": ("ncrepro.surrogates.mufm", "collapse_table"),
    "mufm_tradeoff": ("ncrepro.surrogates.mufm", "tradeoff_table"),
    "ulpm_dynamics": ("ncrepro.surrogates.ulpm", "dynamics_table"),
    "dufm_construction": ("ncrepro.surrogates.dufm_runs", "construction_table"),
    "dufm_ratio": ("ncrepro.surrogates.dufm_runs", "ratio_table"),
    "dufm_rank_sweep": ("ncrepro.surrogates.dufm_runs", "rank_sweep_table"),
    "dufm_width_sweep": ("ncrepro.surrogates.dufm_runs", "width_sweep_table"),
    "dufm_small_k": ("ncrepro.surrogates.dufm_runs", "small_k_table"),
    "dufm_trajectory": ("ncrepro.surrogates.dufm_runs", "trajectory_table"),
    "dufm_search": ("ncrepro.surrogates.dufm_runs", "search_table"),
    "mixon_snc": ("ncrepro.surrogates.mixon", "snc_table"),
    "pfc_illustration": ("ncrepro.surrogates.geodesic", "illustration_table"),
}

# Models solved as one batch of independent runs by ``dufm.gradient_descent``: their results are the
# same bit for bit on any number of threads, so their jobs take the configured ``threads``. The other
# solvers run one small problem each, on one thread (thread hand-offs cost more than the arithmetic).
BATCHED_MODELS = frozenset({"dufm_rank_sweep", "dufm_width_sweep", "dufm_small_k", "dufm_trajectory", "dufm_search"})


def solver(model: str):
    try:
        module, name = SOLVERS[model]
    except KeyError:
        raise ConfigError(f"unknown surrogate model {model!r}; known: {', '.join(SOLVERS)}") from None
    return getattr(importlib.import_module(module), name)


def solve(spec: dict) -> pd.DataFrame:
    """Run one surrogate spec; unknown or missing parameters are a one-line :class:`ConfigError`."""
    fn = solver(spec["model"])
    sig = inspect.signature(fn)
    params = spec["params"]
    unknown = sorted(set(params) - set(sig.parameters))
    missing = [p.name for p in sig.parameters.values() if p.default is inspect.Parameter.empty and p.name not in params]
    if unknown or missing:
        raise ConfigError(
            f"surrogate {spec.get('name', spec['model'])}: "
            + (f"unknown params {unknown}; " if unknown else "")
            + (f"missing params {missing}; " if missing else "")
            + f"{spec['model']} takes {list(sig.parameters)}"
        )
    return fn(**params)
