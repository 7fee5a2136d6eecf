"""Datasets: staging (download or pre-staged copy, checksum-verified), native-format readers, a
cached tensor file per split, and the in-memory tensors a training setting asks for.

Registry (:mod:`ncrepro.datasets`): ``mnist``, ``fashionmnist``, ``kmnist`` (IDX), ``cifar10``,
``cifar100`` (python pickles), ``stl10`` (binary), ``svhn`` (.mat) -- the torchvision datasets, read from
their native files by our own readers -- ``miniimagenet`` (pre-staged only: its split files and JPEGs),
``imagenet`` (pre-staged only, verified by :mod:`ncrepro.imagenet`; read per batch, never staged here),
``digits`` (scikit-learn's bundled 8x8 handwritten digits, real data, offline; the smoke-scale stand-in),
``synthetic`` (a deterministic generator for unit tests) and a user's own datasets (``data.custom``: an
``.npz`` or an image-folder tree).

Pre-staged copies are verified before use: a file passes when its MD5 equals torchvision's published
checksum of that file, or when the MD5 of its decompressed content equals the known checksum of the
real data (Debian's ``dataset-fashion-mnist`` recompresses the ``.gz`` files, so only the latter holds
there). A corrupt or truncated file is an error that names the file; nothing is written.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .datasets import (  # noqa: F401  (the registry)
    DATASETS,
    SPLITS,
    DatasetSpec,
    RawFile,
    miniimagenet_hint,
    prestaged_dir,
    read_custom,
    read_miniimagenet,
)
from .errors import DataError  # noqa: F401  (raised here; ncrepro.data.DataError)
from .io import atomic_torch_save, file_digest, load_torch

CACHE_FORMAT_VERSION = 2


DIGITS_TEST_PER_CLASS = 30
SYNTHETIC_PER_CLASS = {"train": 60, "test": 20}


# --------------------------------------------------------------------------------------------
# Native-format readers
# --------------------------------------------------------------------------------------------


def _open_maybe_gz(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a uint8 array of its stated shape."""
    with _open_maybe_gz(path) as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise DataError(f"{path}: truncated IDX file ({len(data) - offset} of {expected} bytes)")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def read_cifar(paths: list[Path], label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Read CIFAR python pickles: images (N, 3, 32, 32) uint8 and labels (N,)."""
    xs, ys = [], []
    for path in paths:
        with open(path, "rb") as fh:
            entry = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(entry[label_key], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def read_stl10(x_path: Path, y_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read STL10 binaries: images stored column-major (N, 3, 96, 96), labels 1..10 -> 0..9."""
    x = np.fromfile(x_path, dtype=np.uint8)
    if x.size % (3 * 96 * 96):
        raise DataError(f"{x_path}: truncated STL10 image file")
    x = x.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)
    y = np.fromfile(y_path, dtype=np.uint8).astype(np.int64) - 1
    return np.ascontiguousarray(x), y


def read_svhn(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an SVHN ``*_32x32.mat``: X (32, 32, 3, N) -> (N, 3, 32, 32); label 10 means digit 0."""
    import scipy.io

    mat = scipy.io.loadmat(path)
    x = np.ascontiguousarray(mat["X"].transpose(3, 2, 0, 1))
    y = mat["y"].astype(np.int64).reshape(-1) % 10
    return x, y


def read_native(spec: DatasetSpec, split: str, paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, C, H, W) uint8 and labels (N,) int64 from a split's verified native files."""
    if spec.family == "idx":
        x, y = read_idx(paths[0]), read_idx(paths[1])
        x = x[:, None]
    elif spec.family == "cifar":
        x, y = read_cifar(paths, b"labels" if spec.name == "cifar10" else b"fine_labels")
    elif spec.family == "stl10":
        x, y = read_stl10(paths[0], paths[1])
    elif spec.family == "svhn":
        x, y = read_svhn(paths[0])
    else:
        raise DataError(f"{spec.name}: no native files")
    y = np.asarray(y, dtype=np.int64)
    if len(x) != len(y):
        raise DataError(f"{spec.name}/{split}: {len(x)} images but {len(y)} labels")
    if tuple(x.shape[1:]) != spec.shape:
        raise DataError(f"{spec.name}/{split}: images of shape {x.shape[1:]}, expected {spec.shape}")
    if len(y) and (y.min() < 0 or y.max() >= spec.num_classes):
        raise DataError(f"{spec.name}/{split}: labels outside [0, {spec.num_classes})")
    return x, y


def digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (1797 real 8x8 images, values 0..16) as uint8 0..255.

    A fixed stratified split: the last ``DIGITS_TEST_PER_CLASS`` images of each class (in file order)
    are the test split, the rest the training split.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    y = bunch.target.astype(np.int64)
    test = np.zeros(len(y), dtype=bool)
    for k in range(10):
        test[np.flatnonzero(y == k)[-DIGITS_TEST_PER_CLASS:]] = True
    keep = test if split == "test" else ~test
    return x[keep], y[keep]


def synthetic_split(split: str, num_classes: int = 10, shape=(1, 8, 8)) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic class-structured image set for unit tests: class prototypes plus noise."""
    rng = np.random.default_rng(1234)
    protos = rng.uniform(40, 215, size=(num_classes, *shape))
    n = SYNTHETIC_PER_CLASS[split]
    rng = np.random.default_rng(0 if split == "train" else 1)
    x = protos[:, None] + rng.normal(0, 30, size=(num_classes, n, *shape))
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, *shape)
    y = np.repeat(np.arange(num_classes), n)
    return x, y


# --------------------------------------------------------------------------------------------
# Staging: find, verify, download
# --------------------------------------------------------------------------------------------


def md5_content(path: Path) -> str:
    """MD5 of a file's decompressed content (the file itself if not gzip)."""
    h = hashlib.md5()
    try:
        with _open_maybe_gz(path) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except (OSError, EOFError) as exc:
        raise DataError(f"checksum error: {path} is corrupt or truncated ({exc})") from exc
    return h.hexdigest()


def find_raw_file(directory: Path, raw: RawFile) -> Path | None:
    """The file for ``raw`` in ``directory``: its name, or for ``.gz`` names also the decompressed one."""
    candidates = [raw.name]
    if raw.name.endswith(".gz"):
        candidates.append(raw.name[:-3])
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    return None


def verify_raw_file(path: Path, raw: RawFile) -> None:
    """Raise :class:`DataError` unless ``path`` holds the real content of ``raw``."""
    if path.name == raw.name and file_digest(path, "md5") == raw.md5:
        return
    if raw.content_md5 is not None and md5_content(path) == raw.content_md5:
        return
    if raw.content_md5 is None and path.name != raw.name:
        raise DataError(
            f"checksum error: {path} cannot be verified (only the checksum of {raw.name} is known); "
            f"pre-stage the original {raw.name}"
        )
    raise DataError(
        f"checksum error: {path} does not match the published checksum of {raw.name} (corrupt or truncated?)"
    )


def prestage_hint(spec: DatasetSpec) -> str:
    names = ", ".join(f.name for split in SPLITS for f in spec.files[split])
    return (
        f"pre-stage {spec.name}: copy its original files ({names}) into a directory DIR on this machine "
        f"and set `data: prestaged: {spec.name}: DIR` in config/config.yaml "
        f"or NCREPRO_PRESTAGED_{spec.name.upper()}=DIR"
    )


def locate_raw_files(spec: DatasetSpec, data_config: dict) -> dict[str, list[Path]]:
    """Verified native files per split, from a pre-staged copy or torchvision's download."""
    root = Path(data_config["root"])
    directories = []
    staged = prestaged_dir(spec.name, data_config)
    if staged is not None:
        directories += [staged, staged / spec.raw_subdir] if spec.raw_subdir else [staged]
    download_dir = root / "raw" / spec.name / spec.raw_subdir
    directories.append(download_dir)

    def lookup() -> dict[str, list[Path]] | None:
        for directory in directories:
            found = {s: [find_raw_file(directory, f) for f in spec.files[s]] for s in SPLITS}
            if all(p is not None for s in SPLITS for p in found[s]):
                return found
        return None

    found = lookup()
    if found is None:
        if staged is not None:
            raise DataError(f"{spec.name}: {staged} lacks some original files; {prestage_hint(spec)}")
        if not data_config.get("download", True):
            raise DataError(
                f"{spec.name}: not found and downloads are off (data.download: false); {prestage_hint(spec)}"
            )
        download(spec, root / "raw" / spec.name)
        found = lookup()
        if found is None:
            raise DataError(f"{spec.name}: download finished but files are missing; {prestage_hint(spec)}")
    for split in SPLITS:
        for path, raw in zip(found[split], spec.files[split], strict=True):
            verify_raw_file(path, raw)
    return found


def download(spec: DatasetSpec, directory: Path) -> None:
    """Download through torchvision (which verifies the archive checksums)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, spec.torchvision_class)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        if spec.name in ("stl10", "svhn"):
            for split in SPLITS:
                cls(str(directory), split=split, download=True)
        else:
            for train in (True, False):
                cls(str(directory), train=train, download=True)
    except Exception as exc:  # network errors come in many types (URLError, RuntimeError, OSError)
        raise DataError(
            f"{spec.name}: download failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            f"no internet on this node? {prestage_hint(spec)}"
        ) from exc


# --------------------------------------------------------------------------------------------
# Cached tensor files and the tensors of a setting
# --------------------------------------------------------------------------------------------


def cache_path(root: Path | str, name: str, split: str) -> Path:
    return Path(root) / name / f"{split}.pt"


def write_synthetic_cache(root: Path | str, spec: DatasetSpec, n: int) -> list[Path]:
    """Cached files ``<root>/<spec.name>/{train,test}.pt`` of ``n`` random uint8 images of ``spec``'s
    shape with labels cycling through its classes (every class present when ``n`` >= K) and a
    class-dependent offset; the test split holds one image per class. Paper-size models run on them
    without the real data (the paper-setting firing test, the GPU check)."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % spec.num_classes
    x = rng.integers(0, 200, size=(n, *spec.shape), dtype=np.uint8)
    x += (y * (55 // spec.num_classes + 1) % 55).astype(np.uint8)[:, None, None, None]
    fake = DatasetSpec(spec.name, "synthetic", spec.num_classes, spec.shape)
    k = spec.num_classes
    return _write_cache(Path(root), fake, {"train": (x, y), "test": (x[:k], y[:k])}, "synthetic")


def content_digest(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """SHA-256 (16 hex digits) of a dataset's images and labels, split by split: what a training
    records, so that changed data never resumes or reuses a run made from other data."""
    h = hashlib.sha256()
    for split in SPLITS:
        for array in splits[split]:
            a = np.ascontiguousarray(array)
            h.update(f"{split}:{a.dtype}:{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()[:16]


def stage(name: str, data_config: dict) -> list[Path]:
    """Stage a dataset: verify or download its native files (or read a user's own, ``data.custom``),
    convert each split once into a cached tensor file ``<root>/<name>/<split>.pt`` (``x`` uint8 N x C x
    H x W, ``y`` int64, and the data's content digest). Returns the paths; nothing is written unless
    every split reads and verifies."""
    custom = (data_config.get("custom") or {}).get(name)
    if name not in DATASETS and custom is None:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    root = Path(data_config["root"])
    if custom is not None:
        splits = read_custom(custom["path"])
        spec = DatasetSpec(name, "custom", int(splits["train"][1].max()) + 1, tuple(splits["train"][0].shape[1:]))
        return _write_cache(root, spec, splits, str(custom["path"]))
    spec = DATASETS[name]
    if spec.family == "imagenet":
        raise DataError(
            "imagenet: read per batch (the streamed path), not cached in memory (its 1.28 M training images at"
            " 3x224x224 are 193 GB), so the data stage has no tensor file to write for it"
        )
    if spec.family == "digits":
        splits = {s: digits_split(s) for s in SPLITS}
        source = "scikit-learn load_digits (bundled)"
    elif spec.family == "synthetic":
        splits = {s: synthetic_split(s) for s in SPLITS}
        source = "ncrepro.data.synthetic_split"
    elif spec.family == "miniimagenet":  # no download exists: a pre-staged copy only
        staged = prestaged_dir(name, data_config)
        if staged is None:
            raise DataError(f"miniimagenet: no pre-staged copy; {miniimagenet_hint()}")
        splits = read_miniimagenet(staged)
        source = str(staged)
    else:
        found = locate_raw_files(spec, data_config)
        splits = {s: read_native(spec, s, found[s]) for s in SPLITS}
        source = {s: [str(p) for p in found[s]] for s in SPLITS}
    return _write_cache(root, spec, splits, source)


def _write_cache(root: Path, spec: DatasetSpec, splits: dict, source) -> list[Path]:
    digest = content_digest(splits)
    out = []
    for split, (x, y) in splits.items():
        atomic_torch_save(
            {
                "format_version": CACHE_FORMAT_VERSION,
                "dataset": spec.name,
                "split": split,
                "num_classes": spec.num_classes,
                "x": torch.from_numpy(np.array(x)),
                "y": torch.from_numpy(np.array(y)),
                "source": source,
                "digest": digest,
            },
            cache_path(root, spec.name, split),
        )
        out.append(cache_path(root, spec.name, split))
    return out


def load_cached(path: Path | str) -> dict:
    blob = load_torch(path)
    if blob.get("format_version") != CACHE_FORMAT_VERSION:
        raise DataError(
            f"{path}: cache format {blob.get('format_version')}, expected {CACHE_FORMAT_VERSION}; rerun the data stage"
        )
    return blob


def balanced_subset(
    y: torch.Tensor, per_class: int | None, num_classes: int, seed: int = 0, rule: str = "random"
) -> torch.Tensor:
    """Indices of a class-balanced subset of ``per_class`` samples per class, sorted by class then
    original order. ``rule="random"``: drawn without replacement with a seeded generator;
    ``rule="first"``: the first ``per_class`` of each class in file order (Zhu et al.'s ``sample_size``,
    the reading of Perturb App. E.2 in docs/papers/perturb-reading.md, "MNIST subsets"). ``per_class=None`` = all
    samples."""
    if per_class is None:
        return torch.arange(len(y))
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for k in range(num_classes):
        idx = torch.nonzero(y == k).flatten()
        if len(idx) < per_class:
            raise DataError(f"class {k} has {len(idx)} samples, fewer than per_class={per_class}")
        if rule == "first":
            parts.append(idx[:per_class])
        else:
            parts.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]].sort().values)
    return torch.cat(parts)


def box_blur(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """Mean filter of ``kernel`` x ``kernel`` pixels with zero padding, same output size (Perturb App. E.2,
    Fig. 6: a 9x9 uniform blur of the 28x28 images of the chosen classes, before resizing;
    docs/papers/perturb-reading.md, "Blur")."""
    if kernel % 2 != 1:
        raise DataError(f"blur kernel must be odd, got {kernel}")
    return nn.functional.avg_pool2d(x, kernel, stride=1, padding=kernel // 2, count_include_pad=True)


def randomize_labels(
    y: torch.Tensor, fraction: float, num_classes: int, seed: int, rule: str = "uniform"
) -> torch.Tensor:
    """``y`` with a seeded ``fraction`` of the samples given random labels (Zhang et al.'s random-label
    experiment): ``rule="uniform"`` draws each chosen sample's label uniformly; ``rule="permutation"``
    shuffles the chosen samples' labels among them, so every class keeps its size -- with ``fraction=1``
    on a balanced subset, Zhu et al.'s balanced random labels (a random permutation of a balanced label
    vector; Review Fig. 4)."""
    gen = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(y), generator=gen)[: int(round(fraction * len(y)))]
    y = y.clone()
    if rule == "permutation":
        y[chosen] = y[chosen[torch.randperm(len(chosen), generator=gen)]]
    else:
        y[chosen] = torch.randint(num_classes, (len(chosen),), generator=gen)
    return y


def to_shape(x: torch.Tensor, shape: list[int] | None, resize: str = "interpolate") -> torch.Tensor:
    """Float images (N, C, H, W) brought to ``shape`` = [C, H, W]: channels replicated from 1 to C,
    spatial size by zero padding (centred) or bilinear interpolation."""
    if shape is None:
        return x
    c, h, w = shape
    if x.shape[1] != c:
        if x.shape[1] != 1:
            raise DataError(f"cannot map {x.shape[1]} channels to {c}")
        x = x.expand(-1, c, -1, -1)
    if tuple(x.shape[2:]) != (h, w):
        if resize == "pad":
            dh, dw = h - x.shape[2], w - x.shape[3]
            if dh < 0 or dw < 0:
                raise DataError(f"cannot pad {tuple(x.shape[2:])} images to {(h, w)}")
            x = torch.nn.functional.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
        else:
            x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    return x.contiguous()


@dataclass
class Tensors:
    """A setting's data in memory: float32 images, int64 labels, and how they were made (``digest``: the
    content digest of the cached dataset they were cut from)."""

    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    mean: list[float]
    std: list[float]
    digest: str


def select_classes(y: torch.Tensor, classes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples of ``classes`` (labels of the dataset) and their new labels: ``classes[j]`` becomes
    ``j`` (a class-subset task, e.g. Review Fig. 1's three CIFAR10 classes). Returns (indices, labels)."""
    relabel = torch.full((int(y.max()) + 1,), -1, dtype=torch.int64)
    relabel[torch.tensor(classes)] = torch.arange(len(classes))
    idx = torch.nonzero(relabel[y] >= 0).flatten()
    return idx, relabel[y[idx]]


def _subset_images(data: dict, cache_file: Path | str) -> tuple[torch.Tensor, torch.Tensor, int, str]:
    blob = load_cached(cache_file)
    num_classes = int(blob["num_classes"])
    x_all, y_all = blob["x"], blob["y"]
    if data.get("classes"):
        keep, y_all = select_classes(y_all, data["classes"])
        x_all, num_classes = x_all[keep], len(data["classes"])
    idx = balanced_subset(y_all, data.get("per_class"), num_classes, rule=data.get("subset", "random"))
    x, y = x_all[idx].float() / 255.0, y_all[idx].clone()
    blur = data.get("blur")
    if blur:
        chosen = torch.isin(y, torch.tensor(blur["classes"]))
        x[chosen] = box_blur(x[chosen], blur["kernel"])
    if data.get("random_labels"):
        rule = data.get("random_labels_rule", "uniform")
        y = randomize_labels(y, data["random_labels"], num_classes, data.get("label_seed", 0), rule)
    x = to_shape(x, data.get("shape"), data.get("resize", "interpolate"))
    return x, y, num_classes, blob["digest"]


def setting_tensors(
    data: dict,
    cache_file: Path | str,
    train_cache_file: Path | str | None = None,
    normalization: dict | None = None,
) -> Tensors:
    """The tensors of a setting's ``data`` block from a cached split file: balanced subset, float in
    [0, 1], reshaped, standardised per channel with the statistics of the (subset) training split
    (``train_cache_file``; default: the split itself), or with a network's own (``normalization``, the
    ``mean`` and ``std`` its checkpoints record). Another split than the training one is taken whole
    (``per_class`` subsets the training split only): a test accuracy is the whole test set's."""
    other_split = train_cache_file is not None and Path(train_cache_file) != Path(cache_file)
    x, y, num_classes, digest = _subset_images({**data, "per_class": None} if other_split else data, cache_file)
    if normalization is not None:
        mean, std = (torch.tensor(normalization[k], dtype=torch.float64) for k in ("mean", "std"))
    else:
        ref = _subset_images(data, train_cache_file)[0] if other_split else x
        mean = ref.mean(dim=(0, 2, 3), dtype=torch.float64)
        std = ref.double().std(dim=(0, 2, 3)).clamp_min(1e-8)
    if data.get("normalize", "standardize") == "standardize":
        x = ((x - mean.float()[None, :, None, None]) / std.float()[None, :, None, None]).contiguous()
    return Tensors(x, y, num_classes, mean.tolist(), std.tolist(), digest)
