"""ULPM figures (ncrepro.figures.ulpm): the networks' claims on curves that decrease, stay flat or fall
too slowly."""

import numpy as np
import pandas as pd

from ncrepro.figures import ulpm

ULPM_NETWORK = ulpm.KINDS["ulpm_network"].claims


def ulpm_network_table(setting: str, m1b_decays: bool, rate: float = 1.0) -> pd.DataFrame:
    """M1a-M4 proportional to (log t)^-rate from t = 2 to 400; M1b too, or flat near 0.05 (creeping up)."""
    rows = []
    for t in (2, 5, 20, 100, 400):
        decay = (np.log(t) / np.log(2)) ** -rate
        for metric in ("m1a", "m2", "m3a", "m3b", "m4"):
            rows.append({"setting": setting, "seed": 0, "t": t, "metric": metric, "value": 0.5 * decay})
        m1b = 0.05 * decay if m1b_decays else 0.05 + 1e-5 * t
        rows.append({"setting": setting, "seed": 0, "t": t, "metric": "m1b", "value": m1b})
        rows.append({"setting": setting, "seed": 0, "t": t, "metric": "train_acc", "value": 1.0})
    table = pd.DataFrame(rows)
    table["loglog_t"] = np.log(np.log(table.t.astype(float)))
    return table


def test_ulpm_network_claims_decrease_rate_and_the_flat_classifier_norms_of_fashion_mnist():
    meta = {
        "settings": {
            "ulpm_vgg13_cifar10": {"data": {"dataset": "cifar10"}},
            "ulpm_vgg13_fashionmnist": {"data": {"dataset": "fashionmnist"}},
        }
    }
    good = ULPM_NETWORK(ulpm_network_table("ulpm_vgg13_cifar10", True), meta)
    assert [c["passed"] for c in good] == [True, True, True]
    flat = ULPM_NETWORK(ulpm_network_table("ulpm_vgg13_fashionmnist", False), meta)
    assert [c["passed"] for c in flat] == [True, True, True, True]
    assert "m1b" not in flat[0]["claim"] and "stays low" in flat[2]["claim"]
    bad = ULPM_NETWORK(ulpm_network_table("ulpm_vgg13_cifar10", False, rate=0.2), meta)
    assert [c["passed"] for c in bad] == [False, False, True]
