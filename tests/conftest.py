import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def base_config() -> dict:
    """The repository's workflow config at smoke scale (a fresh dict)."""
    import yaml

    cfg = yaml.safe_load(open(ROOT / "config" / "config.yaml"))
    cfg["scale"] = "smoke"
    return cfg


@pytest.fixture(scope="session")
def digits_cache(tmp_path_factory) -> Path:
    """scikit-learn's digits staged once per test session (the cached training split)."""
    from ncrepro import data

    return data.stage("digits", {"root": str(tmp_path_factory.mktemp("data"))})[0]


def with_pending_figure(config_dir: Path, fig_id: str = "review_fig5") -> Path:
    """``config_dir``/papers/review.yaml with ``fig_id`` pending (no kind builds it), as a figure is until
    its kind exists; every shipped figure has one."""
    import yaml

    (config_dir / "papers").mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load((ROOT / "config" / "papers" / "review.yaml").read_text())
    doc["figures"][fig_id].pop("kind")
    (config_dir / "papers" / "review.yaml").write_text(yaml.safe_dump(doc))
    return config_dir


def venv_bin(name: str) -> str:
    """An executable of the environment running the tests."""
    return str(Path(sys.executable).parent / name)


def shortened(setting: dict, epochs: int) -> dict:
    """A copy of a resolved setting cut to ``epochs`` epochs (one per layer when trained layer-wise), with
    one learning-rate step inside them where the setting has any, and checkpoints at the start and the
    end only."""
    import json

    s = json.loads(json.dumps(setting))
    train = s["train"]
    if "layerwise" in train:
        train["layerwise"]["epochs_per_layer"] = 1
        train["epochs"] = len(s["model"]["widths"])
    else:
        train["epochs"] = epochs
    steps, last = train.get("milestones", []), train["epochs"]
    train["milestones"] = [m for m in steps if m < last][:1] or ([1] if steps and last > 1 else [])
    s["checkpoints"] = sorted({0, train["epochs"]})
    return s
