"""Streaming sufficient statistics of features, O(K*D) memory per layer, never a D x D matrix.

Two passes over the data (features arrive batch by batch, float64 accumulation):

pass 1 (:meth:`LayerStats.update_moments`): class counts n_k, class sums, and for consecutive layers of
    equal dimension the per-sample path length sum_i ||h^{l+1}_i - h^l_i|| (PFC's relative depth).
between passes (:meth:`LayerStats.finish_moments`): class means mu_k, global mean mu_G, the centred
    class-mean matrix M (rows mu_k - mu_G, K x D) and its thin SVD M = A S V^T (rank <= K-1).
pass 2 (:meth:`LayerStats.update_centred`): per-class within-class scatter sum ||h - mu_y||^2 and
    sum ||h - mu_y||, sum ||h - mu_G||, the within-class scatter projected on the class-mean subspace
    P = sum z z^T with z = V^T (h - mu_y) (r x r) and its per-class diagonal, the nearest-class-centre
    confusion matrix (given reference class means, e.g. the training split's for a test split, also that
    of the nearest reference centre), and optionally, given the logits of a classifier of the layer,
    their agreement with the nearest class centre and their squared error against one-hot targets (the
    fit term of the MSE objectives, e.g. DUFM eq. (1)).

Every batch is processed in row chunks of at most ``CHUNK_BYTES`` of float64, so temporary memory is
bounded whatever the batch size and dimension; what persists is O(K*D) per layer.

Why this is exact: Sigma_B = M^T M / K = V (S^2/K) V^T, so its pseudo-inverse (truncated to the
rank-r class-mean subspace) is V K S^-2 V^T, and (1/K) tr(Sigma_W Sigma_B^+) = (1/N) sum_j P_jj / s_j^2:
the only part of Sigma_W that NC1 sees is its projection onto span(V).

:class:`GeodesicStats` adds the cross-moments between the first and last measured layers that PFC's
geodesic prediction needs (PFC Sec. IV-A, Fig. 3; docs/papers/pfc-reading.md, "Geodesic prediction").

The result of a run is a :class:`StatsFile` (``.npz``, format version ``STATS_FORMAT_VERSION``): a few
arrays per layer, loadable without the model.
"""

from __future__ import annotations

import numpy as np
import torch

from .statsfile import STATS_FORMAT_VERSION, StatsFile  # noqa: F401  (StatsFile is this module's result)

PINV_RTOL = 1e-6  # singular values of M below PINV_RTOL * s_max are outside the pseudo-inverse
RAW_FEATURES_MAX_BYTES = 1 << 30  # raw features (float32) are kept for small layers only
CHUNK_BYTES = 64 << 20  # float64 working memory per chunk of rows


_WORKSPACE: dict[tuple[str, torch.device], torch.Tensor] = {}


def workspace(slot: str, rows: int, dim: int, device: torch.device) -> torch.Tensor:
    """A reusable float64 buffer of shape (rows, dim). Fresh allocations of this size are served by
    mmap and page-fault on first touch, which made the engine memory-bound; reusing one buffer per
    slot (the engine uses three: "a", "b", "c") keeps the temporary memory at ~3 x ``CHUNK_BYTES``
    and avoids that cost."""
    key = (slot, torch.device(device))
    buf = _WORKSPACE.get(key)
    if buf is None or buf.numel() < rows * dim:
        buf = torch.empty(rows * dim, dtype=torch.float64, device=device)
        _WORKSPACE[key] = buf
    return buf[: rows * dim].view(rows, dim)


def as_float64(x: torch.Tensor, slot: str) -> torch.Tensor:
    """``x`` (rows x dim) copied into the float64 workspace ``slot``."""
    out = workspace(slot, x.shape[0], x.shape[1], x.device)
    out.copy_(x)
    return out


def row_chunks(n_rows: int, dim: int):
    """Row slices of a batch such that one float64 chunk (rows x dim) stays within ``CHUNK_BYTES``:
    the engine's temporary memory is bounded whatever the batch size and feature dimension."""
    step = max(1, CHUNK_BYTES // (8 * max(dim, 1)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


class LayerStats:
    """Streaming statistics of one layer's features (see the module docstring)."""

    def __init__(self, num_classes: int, dim: int, device: torch.device | str = "cpu"):
        self.K, self.D = num_classes, dim
        self.device = torch.device(device)
        z = dict(dtype=torch.float64, device=self.device)
        self.counts = torch.zeros(num_classes, dtype=torch.int64, device=self.device)
        self.sums = torch.zeros(num_classes, dim, **z)
        self.within_sq = torch.zeros(num_classes, **z)
        self.within_norm = torch.zeros(num_classes, **z)  # sum ||h - mu_y|| (ULPM M2 numerator)
        self.total_norm = torch.zeros((), **z)  # sum ||h - mu_G|| (ULPM M2 denominator)
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=self.device)
        self.agree = 0
        self.agree_n = 0
        self.correct = 0  # samples whose logits' argmax is their label
        self.logit_sq_error = torch.zeros((), dtype=torch.float64, device=self.device)  # sum ||logits - e_y||^2
        self.reference: torch.Tensor | None = None  # K x D class means of another split (set_reference)
        self._moments_done = False

    def set_reference(self, means: np.ndarray) -> None:
        """Class means of another split (e.g. the training split's, for a test split) whose nearest-centre
        predictions pass 2 also counts (``confusion_reference``; Review §4.2: the NCC of Fig. 9 classifies
        test samples by the training set's class means)."""
        ref = torch.as_tensor(means, dtype=torch.float64, device=self.device)
        if ref.shape != (self.K, self.D):
            raise ValueError(f"reference class means of shape {tuple(ref.shape)}, expected {(self.K, self.D)}")
        self._ref_centre = ref.mean(0)
        self.reference = ref - self._ref_centre  # centred: distances from float64 products stay well conditioned
        self._ref_sq = (self.reference * self.reference).sum(1)
        self.confusion_reference = torch.zeros(self.K, self.K, dtype=torch.int64, device=self.device)

    # ---- pass 1 ----
    def update_moments(self, h: torch.Tensor, y: torch.Tensor) -> None:
        h = h.reshape(h.shape[0], -1)
        self.counts += torch.bincount(y, minlength=self.K)
        for sl in row_chunks(len(y), self.D):
            self.sums.index_add_(0, y[sl], as_float64(h[sl], "a"))

    def finish_moments(self) -> None:
        n = self.counts.to(torch.float64)
        if (self.counts == 0).any():
            missing = torch.nonzero(self.counts == 0).flatten().tolist()
            raise ValueError(f"classes {missing} have no samples")
        self.N = int(self.counts.sum())
        self.means = self.sums / n[:, None]
        self.global_mean = self.sums.sum(0) / self.N
        self.means_sq = (self.means * self.means).sum(1)
        M = self.means - self.global_mean[None, :]
        # Thin SVD of the K x D centred class-mean matrix (float64, O(K^2 D)).
        _, s, vh = torch.linalg.svd(M, full_matrices=False)
        keep = s > PINV_RTOL * s[0] if s[0] > 0 else torch.zeros_like(s, dtype=torch.bool)
        keep[self.K - 1 :] = False
        r = int(keep.sum())
        self.singular_values = s
        self.singular_values_uncentred = torch.linalg.svdvals(self.means)
        self.rank = r
        self.V = vh[:r].T.contiguous()  # D x r, orthonormal columns spanning the class-mean subspace
        self.P = torch.zeros(r, r, dtype=torch.float64, device=self.device)
        self.P_class_diag = torch.zeros(self.K, r, dtype=torch.float64, device=self.device)
        # Pass-2 constants: the projection [V | mu_1..mu_K | mu_G] (D x (r+K+1)), squared distances
        # between class means (K x K, exact zeros on the diagonal) and ||mu_k - mu_G||^2.
        self._proj = torch.cat([self.V, self.means.T, self.global_mean[:, None]], dim=1).contiguous()
        between = self.means_sq[:, None] + self.means_sq[None, :] - 2 * self.means @ self.means.T
        self._between_sq = between.clamp_min(0).fill_diagonal_(0.0)
        self._centred_sq = (M * M).sum(1)
        self._moments_done = True

    # ---- pass 2 ----
    def update_centred(self, h: torch.Tensor, y: torch.Tensor, logits: torch.Tensor | None = None) -> torch.Tensor:
        """Accumulate pass-2 statistics; returns the squared distances to the class means (B x K).

        Everything is derived from d = h - mu_y and one product d @ [V, mu_1..mu_K, mu_G]:
        ||h - mu_c||^2 = ||d||^2 + 2 d.mu_y - 2 d.mu_c + ||mu_y - mu_c||^2 and
        ||h - mu_G||^2 = ||d||^2 + 2 d.(mu_y - mu_G) + ||mu_y - mu_G||^2."""
        assert self._moments_done, "finish_moments() first"
        h = h.reshape(h.shape[0], -1)
        r, K = self.rank, self.K
        dists = []
        for sl in row_chunks(len(y), self.D):
            yc = y[sl]
            d = as_float64(h[sl], "a")
            d -= torch.index_select(self.means, 0, yc, out=workspace("b", len(yc), self.D, self.device))
            sq = torch.einsum("ij,ij->i", d, d)
            prod = d @ self._proj
            z, d_means, d_global = prod[:, :r], prod[:, r : r + K], prod[:, r + K]
            d_own = d_means.gather(1, yc[:, None])
            self.within_sq.index_add_(0, yc, sq)
            self.within_norm.index_add_(0, yc, sq.sqrt())
            total_sq = sq + 2 * (d_own[:, 0] - d_global) + self._centred_sq[yc]
            self.total_norm += total_sq.clamp_min(0).sqrt().sum()
            self.P += z.T @ z
            self.P_class_diag.index_add_(0, yc, z * z)
            dists.append(sq[:, None] + 2 * (d_own - d_means) + self._between_sq[yc])
            if self.reference is not None:  # ||h - m_c||^2 up to the per-sample ||h - centre||^2
                hc = as_float64(h[sl], "c")
                hc -= self._ref_centre
                ref_pred = (self._ref_sq[None, :] - 2 * hc @ self.reference.T).argmin(1)
                self.confusion_reference.index_put_((yc, ref_pred), torch.ones_like(yc), accumulate=True)
        dist = torch.cat(dists)
        pred = dist.argmin(1)
        self.confusion.index_put_((y, pred), torch.ones_like(y), accumulate=True)
        if logits is not None:
            self.agree += int((logits.argmax(1) == pred).sum())
            self.correct += int((logits.argmax(1) == y).sum())
            self.agree_n += len(y)
            error = logits.to(torch.float64, copy=True)
            error[torch.arange(len(y), device=error.device), y] -= 1.0
            self.logit_sq_error += (error * error).sum()
        return dist

    def arrays(self) -> dict[str, np.ndarray]:
        """The statistics to store (everything :mod:`ncrepro.metrics` needs)."""
        out = {
            "counts": self.counts,
            "means": self.means,
            "global_mean": self.global_mean,
            "within_sq": self.within_sq,
            "within_norm": self.within_norm,
            "total_norm": self.total_norm,
            "P": self.P,
            "P_class_diag": self.P_class_diag,
            "singular_values": self.singular_values,
            "singular_values_uncentred": self.singular_values_uncentred,
            "confusion": self.confusion,
        }
        if self.reference is not None:
            out["confusion_reference"] = self.confusion_reference
        out = {k: v.cpu().numpy() for k, v in out.items()}
        out["rank"] = np.array(self.rank)
        if self.agree_n:
            out["ncc_agreement"] = np.array(self.agree / self.agree_n)
            out["classifier_acc"] = np.array(self.correct / self.agree_n)
            out["logit_sq_error"] = self.logit_sq_error.cpu().numpy()
        return out


class GeodesicStats:
    """Cross-moments of two equal-dimension layers a (layer0) and b (last layer) for PFC's geodesic
    prediction h(t) = (1-t) h^a + t h^b (PFC eqs. (10)-(11), Sec. IV-A; streaming formulas in
    docs/papers/pfc-reading.md, "Geodesic prediction"):
    S_ab = sum_i <h^a_i - mu^a_y, h^b_i - mu^b_y> and the NCC accuracy of h(t) on a grid of t."""

    def __init__(self, a: LayerStats, b: LayerStats, t_grid: np.ndarray):
        self.a, self.b = a, b
        self.t = torch.as_tensor(t_grid, dtype=torch.float64, device=a.device)
        self.cross_within = torch.zeros((), dtype=torch.float64, device=a.device)
        self.ncc_correct = torch.zeros(len(t_grid), dtype=torch.int64, device=a.device)

    def update(self, ha: torch.Tensor, hb: torch.Tensor, y: torch.Tensor, dist_a: torch.Tensor, dist_b: torch.Tensor):
        """With d^a = h^a - mu^a_y, d^b = h^b - mu^b_y (well conditioned when features collapse):
        <h^a - mu^a_c, h^b - mu^b_c> = <d^a, d^b> + d^a.(mu^b_y - mu^b_c) + d^b.(mu^a_y - mu^a_c)
        + <mu^a_y - mu^a_c, mu^b_y - mu^b_c>."""
        ha, hb = ha.reshape(ha.shape[0], -1), hb.reshape(hb.shape[0], -1)
        ma, mb = self.a.means, self.b.means
        if not hasattr(self, "_mean_cross"):
            g = ma @ mb.T
            diag = torch.diagonal(g)
            self._mean_cross = (diag[:, None] - g - g.T + diag[None, :]).fill_diagonal_(0.0)
        crosses = []
        D = self.a.D
        for sl in row_chunks(len(y), D):
            yc = y[sl]
            da, db = as_float64(ha[sl], "a"), as_float64(hb[sl], "b")
            da -= torch.index_select(ma, 0, yc, out=workspace("c", len(yc), D, da.device))
            db -= torch.index_select(mb, 0, yc, out=workspace("c", len(yc), D, db.device))
            own = torch.einsum("ij,ij->i", da, db)
            self.cross_within += own.sum()
            A, B = da @ mb.T, db @ ma.T
            crosses.append(
                own[:, None] + (A.gather(1, yc[:, None]) - A) + (B.gather(1, yc[:, None]) - B) + self._mean_cross[yc]
            )
        cross = torch.cat(crosses)
        for j, t in enumerate(self.t):
            dist = (1 - t) ** 2 * dist_a + 2 * t * (1 - t) * cross + t**2 * dist_b
            self.ncc_correct[j] += (dist.argmin(1) == y).sum()

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "t": self.t.cpu().numpy(),
            "cross_within": self.cross_within.cpu().numpy(),
            "ncc_correct": self.ncc_correct.cpu().numpy(),
        }


def collect(
    batches,
    num_classes: int,
    layer_names: list[str],
    device: torch.device | str = "cpu",
    geodesic_t: np.ndarray | None = None,
    with_logits: bool = False,
    progress: bool = False,
    reference_means: list[np.ndarray] | None = None,
    raw_features: bool = False,
) -> StatsFile:
    """Run both passes. ``batches`` is a callable returning a fresh iterator of
    ``(features: list[Tensor], y, logits or None)``, one entry per measured layer. ``reference_means``:
    per layer, class means of another split to classify by as well (:meth:`LayerStats.set_reference`).
    ``raw_features``: also keep the last layer's features (float32, N x D) and labels, as its arrays
    ``features`` and ``labels`` (a figure that draws samples, e.g. Review Fig. 1); at most
    ``RAW_FEATURES_MAX_BYTES``."""
    from tqdm import tqdm

    acc: list[LayerStats] | None = None
    path_lengths = None
    raw: list[tuple[torch.Tensor, torch.Tensor]] = []
    for feats, y, _ in tqdm(batches(), desc="statistics pass 1", disable=not progress, leave=False):
        if acc is None:
            acc = [LayerStats(num_classes, f[0].numel(), device) for f in feats]
            path_lengths = torch.zeros(len(feats) - 1, dtype=torch.float64, device=torch.device(device))
        for stat, f in zip(acc, feats, strict=True):
            stat.update_moments(f, y)
        if raw_features:
            raw.append((feats[-1].reshape(len(y), -1).float().cpu(), y.cpu()))
            if sum(h.numel() for h, _ in raw) * 4 > RAW_FEATURES_MAX_BYTES:
                raise ValueError(
                    f"raw features of {acc[-1].D}-d features exceed {RAW_FEATURES_MAX_BYTES >> 20} MB: keep them"
                    " for small layers only (measure.raw_features)"
                )
        for i in range(len(feats) - 1):
            if feats[i].shape == feats[i + 1].shape:
                a, b = feats[i].reshape(len(y), -1), feats[i + 1].reshape(len(y), -1)
                for sl in row_chunks(len(y), a.shape[1]):
                    step = as_float64(b[sl], "b")
                    step -= a[sl]
                    path_lengths[i] += torch.linalg.vector_norm(step, dim=1).sum()
            else:
                path_lengths[i] = float("nan")
    if acc is None:
        raise ValueError("no data")
    for i, stat in enumerate(acc):
        stat.finish_moments()
        if reference_means is not None:
            stat.set_reference(reference_means[i])
    geo = None
    if geodesic_t is not None and acc[0].D == acc[-1].D and len(acc) > 1:
        geo = GeodesicStats(acc[0], acc[-1], geodesic_t)
    for feats, y, logits in tqdm(batches(), desc="statistics pass 2", disable=not progress, leave=False):
        dists = []
        for i, (stat, f) in enumerate(zip(acc, feats, strict=True)):
            last = i == len(acc) - 1
            dists.append(stat.update_centred(f, y, logits if (with_logits and last) else None))
        if geo is not None:
            geo.update(feats[0], feats[-1], y, dists[0], dists[-1])
    layers = {name: s.arrays() for name, s in zip(layer_names, acc, strict=True)}
    if raw_features:
        layers[layer_names[-1]]["features"] = torch.cat([h for h, _ in raw]).numpy()
        layers[layer_names[-1]]["labels"] = torch.cat([y for _, y in raw]).numpy()
    return StatsFile(
        layers,
        path_lengths.cpu().numpy(),
        geo.arrays() if geo is not None else None,
    )


def tensor_batches(H: torch.Tensor, y: torch.Tensor, batch_size: int, logits: torch.Tensor | None = None):
    """A ``batches`` callable for :func:`collect` over in-memory features of one layer."""

    def gen():
        for start in range(0, len(y), batch_size):
            sl = slice(start, start + batch_size)
            yield [H[sl]], y[sl], (logits[sl] if logits is not None else None)

    return gen


def recompute_batch_norm(model, x: torch.Tensor, batch_size: int) -> None:
    """Reset the running statistics of every BatchNorm layer of ``model`` and recompute them as the plain
    average (momentum None) over batches of ``x`` in train mode, without gradients; the model is left in
    eval mode. The eval-mode network then normalises with statistics of its own weights on the training
    data, not with whatever the optimiser's extra forward passes left (L-BFGS's line search)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            model.features(x[start : start + batch_size])
    model.eval()


def model_batches(
    model, x: torch.Tensor, y: torch.Tensor, batch_size: int, with_logits: bool = True, layers: list[int] | None = None
):
    """A ``batches`` callable for :func:`collect` over a model's measured layers (eval mode), or the
    ``layers`` (indices into ``model.measured_layers``) among them; logits always from the last."""

    def gen():
        model.eval()
        with torch.no_grad():
            for start in range(0, len(y), batch_size):
                feats = model.features(x[start : start + batch_size])
                logits = model.classify(feats[-1]) if with_logits else None
                chosen = feats if layers is None else [feats[i] for i in layers]
                yield [f.flatten(1) for f in chosen], y[start : start + batch_size], logits

    return gen
