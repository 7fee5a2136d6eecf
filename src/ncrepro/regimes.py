"""The regimes the papers' statements are about, one definition each, read by the claims of every figure
and by training that continues until its regime is reached (``train.until``).

"Fits the training set": a training error of at most one tolerance counts as zero training error
(Perturb §5), interpolation (ULPM §3.1, Remark 3.2: "the training accuracy has achieved 100%"), NCC
separability (PFC §II-A: "We allow a small error epsilon"), the terminal phase (PFC Conj. 1; Review §2).
"Settled" (a run read "at convergence", DUFM Fig. 4 caption): a quantity that moved by at most a relative
tolerance between two checkpoints.
"""

from __future__ import annotations

import pandas as pd

# The one tolerance of "fits the training set" (the default of the config key ``claims.fit_tolerance``):
# a training error, the network's or the nearest-class-centre classifier's, of at most this much.
FIT_TOLERANCE = 1e-3


def fits(accuracy, tol: float):
    """Whether an accuracy (a number, array or Series) fits the training set: error at most ``tol``
    (:data:`FIT_TOLERANCE`). NaN (not measured) never fits."""
    return accuracy >= 1 - tol - 1e-12  # the slack keeps 1 - tol itself fitting despite float rounding


def sustained_from(accuracy: pd.Series, tol: float) -> float:
    """The first epoch of sustained interpolation: the first epoch (index of ``accuracy``) from which every
    measured accuracy fits (:func:`fits`) to the last; NaN when the last does not. The start of the terminal
    phase where a figure reads a window of it (Review §2, TPT; the ULPM networks' late window)."""
    below = ~fits(accuracy.sort_index(), tol)
    if not len(below) or below.iloc[-1]:
        return float("nan")
    return float(below.index[0] if not below.any() else below.index[below.to_numpy().nonzero()[0][-1] + 1])


SETTLED = 1e-2  # the relative move between two checkpoints below which a quantity has settled (project's)


def steady(previous: float, last: float, rtol: float = SETTLED) -> bool:
    """Whether a quantity settled: its last value within ``rtol`` (relative) of its previous one."""
    return bool(abs(last - previous) <= rtol * abs(last))
