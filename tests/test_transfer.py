"""Few-shot transfer (Review §4.3, Fig. 10): the ridge classifier equals scikit-learn's RidgeClassifier, the
episodes are what their spec says, and the transfer stage evaluates a trained run on unseen classes."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import RidgeClassifier

from ncrepro import config, stages, train
from ncrepro.transfer import draw_episodes, episode_accuracy, ridge_fit


@pytest.mark.parametrize(("n_per_class", "dim"), [(20, 6), (3, 40)])  # the primal and the dual solve
def test_ridge_fit_equals_scikit_learns_ridge_classifier(n_per_class, dim):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), n_per_class)
    x = rng.normal(size=(len(y), dim)) + 2 * rng.normal(size=(5, dim))[y] + 3.0
    weights, intercept = ridge_fit(x, y, 5, alpha=0.7)
    reference = RidgeClassifier(alpha=0.7).fit(x, y)
    queries = rng.normal(size=(30, dim)) + 3.0
    assert np.allclose(queries @ weights + intercept, reference.decision_function(queries), atol=1e-8)


def test_episodes_draw_their_ways_shots_and_queries_from_the_right_splits():
    train_y, test_y = np.repeat(np.arange(8), 12), np.repeat(np.arange(8), 4)
    spec = {"episodes": 7, "ways": 3, "shots": 2, "queries": 10}
    episodes = draw_episodes(train_y, test_y, 8, spec, seed=3)
    assert len(episodes) == 7
    for e in episodes:
        assert len(set(e.classes)) == 3
        for k, support, queries in zip(e.classes, e.support, e.queries, strict=True):
            assert len(support) == 2 and (train_y[support] == k).all()
            assert len(queries) == 4 and (test_y[queries] == k).all()  # all 4 of the class (< 10)
    again = draw_episodes(train_y, test_y, 8, spec, seed=3)
    assert all((a.classes == b.classes).all() for a, b in zip(episodes, again, strict=True))


def test_an_episode_of_separated_classes_is_solved():
    rng = np.random.default_rng(1)
    centres = 10 * rng.normal(size=(4, 5))
    train_x = centres[np.repeat(np.arange(4), 6)] + rng.normal(size=(24, 5))
    test_x = centres[np.repeat(np.arange(4), 3)] + rng.normal(size=(12, 5))
    e = draw_episodes(
        np.repeat(np.arange(4), 6),
        np.repeat(np.arange(4), 3),
        4,
        {"episodes": 1, "ways": 4, "shots": 2, "queries": 3},
        0,
    )[0]
    assert episode_accuracy(train_x, test_x, e, 1.0) == 1.0


def test_the_transfer_stage_evaluates_every_checkpoint_on_unseen_classes(base_config, digits_cache, tmp_path):
    base_config["overrides"] = {
        "settings": {
            "review_source_classes_wrn_subset2": {
                "data": {"per_class": 30},
                "train": {"epochs": 2, "batch_size": 30},
                "checkpoints": [0, 2],
                "measure": {"transfer": {"episodes": 4, "queries": 10}},
            }
        }
    }
    setting = config.load(base_config).settings["review_source_classes_wrn_subset2"]
    assert setting["data"]["dataset"] == "digits" and setting["measure"]["transfer"]["classes"] == [0, 1, 5, 8, 9]
    manifest = train.run(setting, 0, digits_cache, tmp_path / "run", "cpu", 1, progress=False)
    out = tmp_path / "transfer.parquet"
    stages.stage_transfer(
        str(manifest), [0, 2], str(digits_cache), str(digits_cache.parent / "test.pt"), str(out), "cpu", 1
    )
    table = pd.read_parquet(out)
    assert sorted(table.epoch.unique()) == [0, 2]
    acc = table[table.metric == "fewshot_acc"]
    assert len(acc) == 2 * 4 and acc.value.between(0, 1).all() and set(acc.episode) == {0, 1, 2, 3}
    cdnv = table[table.metric == "target_cdnv"]
    assert len(cdnv) == 2 and (cdnv.value > 0).all()
    meta = json.loads(pq.read_schema(out).metadata[b"ncrepro"])
    assert meta["setting"]["name"] == "review_source_classes_wrn_subset2"


def test_target_classes_must_be_unseen_classes_of_the_dataset(base_config):
    for transfer, message in (
        ({"classes": [0, 1, 4, 8, 9]}, r"\[4\] are training classes too"),
        ({"classes": [0, 1, 5, 8, 19]}, r"\[19\] are not classes of digits"),
        ({"classes": [0, 1], "ways": 5}, "5 ways from 2 target classes"),
        ({"shots": 500}, "500 shots, the smallest class of digits has 144"),
    ):
        base_config["overrides"] = {
            "settings": {"review_source_classes_wrn_subset2": {"measure": {"transfer": transfer}}}
        }
        with pytest.raises(config.ConfigError, match=message):
            config.load(base_config)
