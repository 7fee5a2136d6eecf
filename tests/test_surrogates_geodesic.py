"""PFC Fig. 1's construction: the end point is collapsed onto a simplex ETF, the motion is a straight line."""

import numpy as np

from ncrepro.metrics import etf_gram_distance
from ncrepro.surrogates import geodesic


def test_end_point_is_a_collapsed_simplex_etf_and_metrics_decrease():
    tab = geodesic.illustration_table(3, 4, [0, 60, 200], 1.0, 0.3, [0.0, 0.5, 1.0], 0)
    pts = tab[tab.kind == "point"]
    end = pts[pts.t == 1.0]
    assert end.groupby("class")[["x", "y"]].std(ddof=0).to_numpy().max() < 1e-12
    means = tab[(tab.kind == "mean") & (tab.t == 1.0)][["x", "y"]].to_numpy()
    assert etf_gram_distance(means @ means.T) < 1e-12
    mid = pts[pts.t == 0.5].sort_values("point")[["x", "y"]].to_numpy()
    start = pts[pts.t == 0.0].sort_values("point")[["x", "y"]].to_numpy()
    assert np.allclose(mid, (start + end.sort_values("point")[["x", "y"]].to_numpy()) / 2)
    pfc1 = tab[(tab.kind == "metric") & (tab.metric == "pfc1")].sort_values("t").value.to_numpy()
    assert np.all(np.diff(pfc1) < 0)
