"""Few-shot transfer of a trained network's penultimate features (Review §4.3, eq. 54 and Fig. 10; after
Galanti et al. 2021): on classes the network never saw, episodes of ``ways`` classes with ``shots`` labelled
samples each train a ridge-regression classifier on the frozen features, evaluated on ``queries`` test samples
per class; and the target classes' CDNV (Review eq. 51) on their test samples.

The ridge classifier is scikit-learn's ``RidgeClassifier`` in closed form: one-vs-rest targets in {-1, +1},
an intercept (the features and targets centred on the support set), weights (X^T X + alpha I)^-1 X^T T;
the prediction is the argmax of the scores. It reads the raw penultimate features (no normalisation; the
review states none), so the penalty acts at the features' own scale. The episodes are drawn once per run
(seeded by the run's seed), so every checkpoint is evaluated on the same episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ridge_fit(x: np.ndarray, labels: np.ndarray, classes: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (D x classes) and intercept (classes) of a ridge classifier of ``x`` (n x D, float64) with
    ``labels`` 0..classes-1: least squares on {-1, +1} one-vs-rest targets with penalty ``alpha`` ||W||^2 on
    the weights, not the intercept."""
    targets = -np.ones((len(labels), classes))
    targets[np.arange(len(labels)), labels] = 1.0
    x_mean, t_mean = x.mean(0), targets.mean(0)
    xc = x - x_mean
    gram = xc.T @ xc if xc.shape[0] >= xc.shape[1] else None
    if gram is not None:  # D x D system
        weights = np.linalg.solve(gram + alpha * np.eye(x.shape[1]), xc.T @ (targets - t_mean))
    else:  # fewer samples than dimensions: the n x n dual, W = X^T (X X^T + alpha I)^-1 T
        weights = xc.T @ np.linalg.solve(xc @ xc.T + alpha * np.eye(len(xc)), targets - t_mean)
    return weights, t_mean - x_mean @ weights


@dataclass(frozen=True)
class Episode:
    """One few-shot task: its classes (indices into the target classes), and per class the indices of
    its support samples (into the training split's target samples) and its query samples (into the test
    split's)."""

    classes: np.ndarray
    support: list[np.ndarray]
    queries: list[np.ndarray]


def draw_episodes(
    train_labels: np.ndarray, test_labels: np.ndarray, n_classes: int, spec: dict, seed: int
) -> list[Episode]:
    """``spec["episodes"]`` episodes of ``spec["ways"]`` classes drawn from ``n_classes`` target classes:
    ``shots`` support samples per class from the training split, ``queries`` query samples per class from
    the test split (all of them when the class has fewer)."""
    rng = np.random.default_rng(seed)
    by_class_train = [np.flatnonzero(train_labels == k) for k in range(n_classes)]
    by_class_test = [np.flatnonzero(test_labels == k) for k in range(n_classes)]
    episodes = []
    for _ in range(spec["episodes"]):
        classes = np.sort(rng.choice(n_classes, spec["ways"], replace=False))
        support = [rng.choice(by_class_train[k], spec["shots"], replace=False) for k in classes]
        queries = [
            rng.choice(by_class_test[k], min(spec["queries"], len(by_class_test[k])), replace=False) for k in classes
        ]
        episodes.append(Episode(classes, support, queries))
    return episodes


def episode_accuracy(train_features: np.ndarray, test_features: np.ndarray, episode: Episode, alpha: float) -> float:
    """Accuracy on an episode's queries of the ridge classifier fitted on its support features."""
    ways = len(episode.classes)
    x = np.concatenate([train_features[idx] for idx in episode.support]).astype(np.float64)
    labels = np.repeat(np.arange(ways), [len(idx) for idx in episode.support])
    weights, intercept = ridge_fit(x, labels, ways, alpha)
    q = np.concatenate([test_features[idx] for idx in episode.queries]).astype(np.float64)
    truth = np.repeat(np.arange(ways), [len(idx) for idx in episode.queries])
    return float(np.mean((q @ weights + intercept).argmax(1) == truth))
