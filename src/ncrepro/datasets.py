"""The dataset registry, and users' own datasets, read without torch (the workflow and the figures
use it when they parse). The torchvision datasets are registered with the checksums of their native
files; ``digits`` and ``synthetic`` are generated offline.

A user's own dataset (``data.custom.<name>: {path: ...}`` of the configuration) is an ``.npz`` with
``x_train``, ``y_train``, ``x_test``, ``y_test`` (uint8 images N x H x W or N x H x W x C, integer labels
0..K-1) or an image-folder tree ``<path>/{train,test}/<class>/<image>`` (torchvision's ImageFolder
layout per split, classes in the sorted order of their folder names). It is read strictly: anything
malformed is a one-line :class:`~ncrepro.errors.DataError` naming the file and what is wrong, and no
file is ever loaded in a way that could run code (``allow_pickle=False``; image size capped before
decoding).
"""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError

SPLITS = ("train", "test")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
MAX_IMAGE_PIXELS = 4096 * 4096  # larger is no dataset image (and may be a decompression bomb)


@dataclass(frozen=True)
class RawFile:
    """One native file of a dataset: its name, torchvision's MD5 of the file as downloaded, and
    (where known) the MD5 of its decompressed content."""

    name: str
    md5: str
    content_md5: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: where its native files come from, its number of classes and its image shape."""

    name: str
    # idx | cifar | stl10 | svhn | miniimagenet | imagenet | digits | synthetic | npz | folder (a user's own)
    family: str
    num_classes: int
    shape: tuple[int, int, int]
    files: dict[str, tuple[RawFile, ...]] = field(default_factory=dict)  # split -> files
    torchvision_class: str | None = None
    raw_subdir: str = ""  # where torchvision's download leaves the native files, under the raw root
    min_per_class: int | None = None  # samples of the smallest class of the training split
    train_size: int | None = None  # samples of the training split
    path: str | None = None  # a user's own dataset: its .npz file or image-folder tree


def setting_num_classes(data: dict, dataset_classes: int) -> int:
    """The classes a setting's ``data`` block trains on: its class subset's (``classes``), else all
    ``dataset_classes`` of its dataset."""
    return len(data.get("classes") or []) or dataset_classes


def _idx_files(md5s: dict[str, str], content: dict[str, str] | None = None) -> dict[str, tuple[RawFile, ...]]:
    content = content or {}

    def f(stem: str) -> RawFile:
        return RawFile(f"{stem}.gz", md5s[stem], content.get(stem))

    return {
        "train": (f("train-images-idx3-ubyte"), f("train-labels-idx1-ubyte")),
        "test": (f("t10k-images-idx3-ubyte"), f("t10k-labels-idx1-ubyte")),
    }


# ImageNet (ILSVRC-2012 classification): its published sizes, which a pre-staged tree must have
# (ncrepro.imagenet.verify_imagenet).
IMAGENET_CLASSES = 1000
IMAGENET_TRAIN_IMAGES = 1_281_167
IMAGENET_TRAIN_PER_CLASS = (732, 1300)  # the smallest and the largest training class
IMAGENET_VAL_PER_CLASS = 50
IMAGENET_CROP = 224  # the networks' input: the recipe's crop (docs/papers/review-reading.md, "ImageNet panel")


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist",
        "idx",
        10,
        (1, 28, 28),
        _idx_files(
            {
                "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
                "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
                "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
            }
        ),
        "MNIST",
        "MNIST/raw",
        min_per_class=5421,
        train_size=60000,
    ),
    "fashionmnist": DatasetSpec(
        "fashionmnist",
        "idx",
        10,
        (1, 28, 28),
        _idx_files(
            {
                "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
                "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
                "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
            },
            {  # decompressed content: Debian's copy (dataset-fashion-mnist) is recompressed
                "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
            },
        ),
        "FashionMNIST",
        "FashionMNIST/raw",
        min_per_class=6000,
        train_size=60000,
    ),
    "kmnist": DatasetSpec(
        "kmnist",
        "idx",
        10,
        (1, 28, 28),
        _idx_files(
            {
                "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
                "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
                "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
                "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
            }
        ),
        "KMNIST",
        "KMNIST/raw",
        min_per_class=6000,
        train_size=60000,
    ),
    "cifar10": DatasetSpec(
        "cifar10",
        "cifar",
        10,
        (3, 32, 32),
        {
            "train": (
                RawFile("data_batch_1", "c99cafc152244af753f735de768cd75f"),
                RawFile("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
                RawFile("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
                RawFile("data_batch_4", "634d18415352ddfa80567beed471001a"),
                RawFile("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
            ),
            "test": (RawFile("test_batch", "40351d587109b95175f43aff81a1287e"),),
        },
        "CIFAR10",
        "cifar-10-batches-py",
        min_per_class=5000,
        train_size=50000,
    ),
    "cifar100": DatasetSpec(
        "cifar100",
        "cifar",
        100,
        (3, 32, 32),
        {
            "train": (RawFile("train", "16019d7e3df5f24257cddd939b257f8d"),),
            "test": (RawFile("test", "f0ef6b0ae62326f3e7ffdfab6717acfc"),),
        },
        "CIFAR100",
        "cifar-100-python",
        min_per_class=500,
        train_size=50000,
    ),
    "stl10": DatasetSpec(
        "stl10",
        "stl10",
        10,
        (3, 96, 96),
        {
            "train": (
                RawFile("train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"),
                RawFile("train_y.bin", "5a34089d4802c674881badbb80307741"),
            ),
            "test": (
                RawFile("test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"),
                RawFile("test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"),
            ),
        },
        "STL10",
        "stl10_binary",
        min_per_class=500,
        train_size=5000,
    ),
    "svhn": DatasetSpec(
        "svhn",
        "svhn",
        10,
        (3, 32, 32),
        {
            "train": (RawFile("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),),
            "test": (RawFile("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"),),
        },
        "SVHN",
        "",
        min_per_class=4659,
        train_size=73257,
    ),
    # Mini-ImageNet (Vinyals et al. 2016) in Ravi & Larochelle's class split, pre-staged only (no download):
    # 100 classes of 600 84x84 images, read by read_miniimagenet.
    "miniimagenet": DatasetSpec(
        "miniimagenet",
        "miniimagenet",
        100,
        (3, 84, 84),
        min_per_class=500,
        train_size=50000,
    ),
    # ImageNet, pre-staged only (no download) and read per batch, never cached as one tensor (its training
    # split at 3x224x224 is 193 GB): ncrepro.imagenet verifies a tree and indexes its files.
    "imagenet": DatasetSpec(
        "imagenet",
        "imagenet",
        IMAGENET_CLASSES,
        (3, IMAGENET_CROP, IMAGENET_CROP),
        min_per_class=IMAGENET_TRAIN_PER_CLASS[0],
        train_size=IMAGENET_TRAIN_IMAGES,
    ),
    "digits": DatasetSpec("digits", "digits", 10, (1, 8, 8), min_per_class=144, train_size=1497),
    "synthetic": DatasetSpec("synthetic", "synthetic", 10, (1, 8, 8), min_per_class=60, train_size=600),
}


# --------------------------------------------------------------------------------------------
# A user's own dataset: probed cheaply when the configuration loads, read whole by the data stage
# --------------------------------------------------------------------------------------------


def _check_labels(where: str, labels: dict[str, np.ndarray]) -> int:
    """The labels of both splits: integers 0..K-1 with K from the training split, every class present in
    both. Returns K."""
    for split, y in labels.items():
        if len(y) == 0:
            raise DataError(f"{where}: the {split} split is empty")
        if y.min() < 0:
            raise DataError(f"{where}: y_{split} has negative labels; labels are 0..K-1")
    num_classes = int(labels["train"].max()) + 1
    if labels["test"].max() >= num_classes:
        top = labels["test"].max()
        raise DataError(f"{where}: y_test has labels up to {top}, y_train only up to {num_classes - 1}")
    for split, y in labels.items():
        missing = sorted(set(range(num_classes)) - set(np.unique(y).tolist()))
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise DataError(f"{where}: no samples of class {shown} in the {split} split")
    return num_classes


def _npy_header(z, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array of an ``.npz``, read from its header without loading it."""
    with z.zip.open(f"{key}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(fh)
    return tuple(shape), dtype


def _npz(path: Path, images: bool) -> tuple[tuple[int, int, int], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """An ``.npz`` dataset verified: the image shape (C, H, W), the labels per split and, with ``images``,
    the images per split (N, C, H, W). Never unpickles (``allow_pickle=False``)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    labels, xs, shapes = {}, {}, {}
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing {', '.join(missing)} (an .npz dataset holds {', '.join(NPZ_KEYS)})")
            for split in SPLITS:
                shape, dtype = _npy_header(z, f"x_{split}")
                y_shape, y_dtype = _npy_header(z, f"y_{split}")
                if dtype.hasobject or y_dtype.hasobject:
                    raise DataError(
                        f"{path}: holds pickled objects; a data file must hold plain arrays (it is never unpickled)"
                    )
                if dtype != np.uint8:
                    raise DataError(f"{path}: x_{split} is {dtype}; images must be uint8 (0..255)")
                if not (len(shape) == 3 or (len(shape) == 4 and shape[-1] in (1, 3))):
                    raise DataError(
                        f"{path}: x_{split} has shape {shape}; images must be N x H x W or N x H x W x C (C = 1 or 3)"
                    )
                if not np.issubdtype(y_dtype, np.integer) or len(y_shape) != 1:
                    raise DataError(f"{path}: y_{split} must be a 1-d integer array, got {y_dtype} of shape {y_shape}")
                if shape[0] != y_shape[0]:
                    raise DataError(f"{path}: x_{split} has {shape[0]} images but y_{split} {y_shape[0]} labels")
                shapes[split] = (1, *shape[1:]) if len(shape) == 3 else (shape[3], shape[1], shape[2])
                labels[split] = z[f"y_{split}"].astype(np.int64)
                if images:
                    x = z[f"x_{split}"]
                    xs[split] = np.ascontiguousarray(x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2))
    except DataError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz ({type(exc).__name__}: {exc})") from exc
    if shapes["train"] != shapes["test"]:
        raise DataError(f"{path}: train images {shapes['train']} and test images {shapes['test']} differ")
    _check_labels(str(path), labels)
    return shapes["train"], labels, xs


GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def _image_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _open_image(file: Path, decode: bool):
    """An image file opened (header only unless ``decode``), its size capped before any decoding."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as im:
                if im.size[0] * im.size[1] > MAX_IMAGE_PIXELS:
                    raise DataError(f"{file}: {im.size[0]}x{im.size[1]} pixels is too large for a dataset image")
                if not decode:
                    return im.mode, im.size, None
                im.load()
                return im.mode, im.size, im.copy()
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{file}: unreadable image ({type(exc).__name__})") from exc


def _image_folder(
    path: Path, decode: bool
) -> tuple[tuple[int, int, int], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """An image-folder dataset ``<path>/{train,test}/<class>/<image>`` verified: the image shape (C, H,
    W; C = 1 when every image is grayscale, else 3), the labels per split (the sorted class folders) and,
    with ``decode``, the images per split (N, C, H, W)."""
    if not path.is_dir():
        raise DataError(f"{path}: directory not found")
    classes = {}
    for split in SPLITS:
        if not (path / split).is_dir():
            raise DataError(f"{path}: no {split}/ folder (an image-folder dataset is {{train,test}}/<class>/<image>)")
        classes[split] = sorted(p.name for p in (path / split).iterdir() if p.is_dir())
        if not classes[split]:
            raise DataError(f"{path / split}: no class folders")
    if classes["train"] != classes["test"]:
        raise DataError(
            f"{path}: train/ and test/ have different class folders ({classes['train']} vs {classes['test']})"
        )
    labels, opened, size, gray = {}, {s: [] for s in SPLITS}, None, True
    for split in SPLITS:
        y = []
        for label, name in enumerate(classes[split]):
            files = _image_files(path / split / name)
            if not files:
                raise DataError(f"{path / split / name}: empty class folder (no image files)")
            for file in files:
                mode, file_size, image = _open_image(file, decode)
                if size is None:
                    size = file_size
                elif file_size != size:
                    raise DataError(f"{file}: {file_size[0]}x{file_size[1]} image among {size[0]}x{size[1]} images")
                gray = gray and mode in GRAY_MODES
                opened[split].append(image)
                y.append(label)
        labels[split] = np.array(y, dtype=np.int64)
    xs = {}
    if decode:
        for split in SPLITS:
            x = np.stack([np.asarray(im.convert("L" if gray else "RGB"), dtype=np.uint8) for im in opened[split]])
            xs[split] = np.ascontiguousarray(x[:, None] if gray else x.transpose(0, 3, 1, 2))
    return (1 if gray else 3, size[1], size[0]), labels, xs


# --------------------------------------------------------------------------------------------
# Mini-ImageNet, in its common distributed layout
# --------------------------------------------------------------------------------------------

# Ravi & Larochelle's split files (64, 16 and 20 classes) beside ``images/`` of 84x84 JPEGs; each CSV
# has the header ``filename,label`` and a line ``n0153282900000005.jpg,n01532829`` per image.
MINI_IMAGENET_CSVS = ("train.csv", "val.csv", "test.csv")
MINI_IMAGENET_CLASSES = (64, 16, 20)
MINI_IMAGENET_PER_CLASS = 600
MINI_IMAGENET_TEST_PER_CLASS = 100  # the last 100 images of a class (in file order) are its test split
MINI_IMAGENET_SIZE = 84


def miniimagenet_hint() -> str:
    return (
        "pre-stage miniimagenet: a directory DIR with train.csv, val.csv, test.csv (Ravi & Larochelle's split) and"
        " images/ (their 84x84 JPEGs), set `data: prestaged: miniimagenet: DIR` in config/config.yaml or"
        " NCREPRO_PRESTAGED_MINIIMAGENET=DIR"
    )


def read_miniimagenet(directory: Path | str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mini-ImageNet, verified and read whole (no checksum of it is published: its structure is verified
    and the data stage records its content digest). Classes are numbered in the order the split files
    list them: 0-63 Ravi & Larochelle's training classes, 64-79 their validation classes, 80-99 their test
    classes (the few-shot target pool). Each class's first 500 images (in file order) form the training
    split, its last 100 the test split (the project's reading: Galanti et al. 2021 train and test within
    a class and do not say how they split it)."""
    directory = Path(directory)
    per_class: dict[str, list[str]] = {}
    for csv_name, expected in zip(MINI_IMAGENET_CSVS, MINI_IMAGENET_CLASSES, strict=True):
        path = directory / csv_name
        if not path.is_file():
            raise DataError(f"{path}: not found; {miniimagenet_hint()}")
        lines = path.read_text().splitlines()
        if not lines or lines[0].strip() != "filename,label":
            raise DataError(f"{path}: not a Mini-ImageNet split file (its first line must be 'filename,label')")
        classes_here = set()
        for number, line in enumerate(lines[1:], start=2):
            parts = line.strip().split(",")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise DataError(f"{path}: line {number}: expected 'filename,label', got {line.strip()!r}")
            if parts[1] in per_class and parts[1] not in classes_here:
                raise DataError(f"{path}: class {parts[1]} is also in another split file")
            classes_here.add(parts[1])
            per_class.setdefault(parts[1], []).append(parts[0])
        if len(classes_here) != expected:
            raise DataError(f"{path}: {len(classes_here)} classes, Mini-ImageNet's split has {expected}")
    short = {c: len(files) for c, files in per_class.items() if len(files) != MINI_IMAGENET_PER_CLASS}
    if short:
        name, count = next(iter(short.items()))
        raise DataError(f"{directory}: class {name} has {count} images, Mini-ImageNet has {MINI_IMAGENET_PER_CLASS}")
    xs: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    ys: dict[str, list[int]] = {s: [] for s in SPLITS}
    train_per_class = MINI_IMAGENET_PER_CLASS - MINI_IMAGENET_TEST_PER_CLASS
    for label, files in enumerate(per_class.values()):
        for i, name in enumerate(files):
            file = directory / "images" / name
            if not file.is_file():
                raise DataError(f"{file}: listed in the split files but not found; {miniimagenet_hint()}")
            _, size, image = _open_image(file, decode=True)
            if size != (MINI_IMAGENET_SIZE, MINI_IMAGENET_SIZE):
                raise DataError(f"{file}: {size[0]}x{size[1]} image, Mini-ImageNet's are 84x84")
            split = "train" if i < train_per_class else "test"
            xs[split].append(np.asarray(image.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1))
            ys[split].append(label)
    return {s: (np.stack(xs[s]), np.array(ys[s], dtype=np.int64)) for s in SPLITS}


def _custom(path: Path | str, read: bool):
    path = Path(path)
    if path.is_dir():
        return _image_folder(path, read)
    if path.suffix != ".npz":
        what = "not found" if not path.exists() else "neither an .npz file nor an image-folder directory"
        raise DataError(f"{path}: {what} (a dataset of your own is an .npz file or an image-folder tree)")
    return _npz(path, read)


def read_custom(path: Path | str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A user's dataset, verified and read whole: per split, images (N, C, H, W) uint8 and labels (N,)
    int64."""
    _, labels, xs = _custom(path, read=True)
    return {split: (xs[split], labels[split]) for split in SPLITS}


def probe_custom(name: str, entry: dict) -> DatasetSpec:
    """The registry entry of a user's dataset ``data.custom.<name>``, from its labels and image headers
    (its classes, image shape and smallest class; images are decoded only by the data stage)."""
    if name in DATASETS:
        raise DataError(f"data.custom.{name}: the name of a registered dataset; choose another")
    path = Path(entry["path"])
    shape, labels, _ = _custom(path, read=False)
    counts = np.bincount(labels["train"])
    family = "folder" if path.is_dir() else "npz"
    return DatasetSpec(
        name,
        family,
        len(counts),
        shape,
        min_per_class=int(counts.min()),
        train_size=len(labels["train"]),
        path=str(path),
    )


def prestaged_dir(name: str, data_config: dict) -> Path | None:
    """The pre-staged directory for a dataset: ``$NCREPRO_PRESTAGED_<NAME>``, else the config's
    ``data.prestaged.<name>`` if it exists."""
    env = os.environ.get(f"NCREPRO_PRESTAGED_{name.upper()}")
    if env:
        if not Path(env).is_dir():
            raise DataError(f"NCREPRO_PRESTAGED_{name.upper()}={env}: not a directory")
        return Path(env)
    configured = (data_config.get("prestaged") or {}).get(name)
    if configured and Path(configured).is_dir():
        return Path(configured)
    return None


def source_fingerprint(path: Path | str) -> str:
    """Size and modification time of a file, or of every file under a directory: what changes when a
    dataset's files are replaced (the data stage then reruns and records the content digest)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    return ";".join(
        f"{p.relative_to(path) if p != path else p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files
    )


def stage_config(data_config: dict, name: str) -> dict:
    """The part of the config's ``data`` block that staging dataset ``name`` reads, with the fingerprint
    of its source files (a user's own files, or a pre-staged copy): the data stage's parameters, so that
    it reruns when, and only when, these change."""
    out = {k: data_config[k] for k in ("root", "download") if k in data_config}
    custom = (data_config.get("custom") or {}).get(name)
    if custom is not None:
        return out | {"custom": {name: custom}, "source": source_fingerprint(custom["path"])}
    if name in (data_config.get("prestaged") or {}):
        out["prestaged"] = {name: data_config["prestaged"][name]}
    try:
        staged = prestaged_dir(name, data_config)
    except DataError:  # the data stage reports it
        staged = None
    return out | {"source": source_fingerprint(staged) if staged else ""}


def check_setting_data(data: dict, datasets: dict[str, DatasetSpec], where: str) -> None:
    """A setting's dataset is known, its class subset is of its classes, and its per-class count fits the
    smallest class (:class:`ConfigError`, one line)."""
    spec = datasets.get(data["dataset"])
    if spec is None:
        raise ConfigError(
            f"{where}.dataset: unknown dataset {data['dataset']!r}; known: {', '.join(datasets)}"
            " (or register your own under data.custom)"
        )
    _check_classes(data.get("classes") or [], spec, f"{where}.classes")
    if data.get("per_class") and spec.min_per_class is not None and data["per_class"] > spec.min_per_class:
        raise ConfigError(
            f"{where}.per_class: {data['per_class']} is more than the smallest class of {spec.name}"
            f" ({spec.min_per_class} samples)"
        )


def check_transfer(setting: dict, spec: DatasetSpec, where: str) -> None:
    """A transfer evaluation's target classes are classes of the dataset, none trained on, and hold an
    episode's ways and shots."""
    transfer = setting.get("measure", {}).get("transfer")
    if not transfer:
        return
    targets = transfer["classes"]
    _check_classes(targets, spec, f"{where}.classes")
    trained = set(setting["data"].get("classes") or range(spec.num_classes)) & set(targets)
    if trained:
        raise ConfigError(f"{where}.classes: {sorted(trained)} are training classes too; targets are unseen classes")
    if transfer["ways"] > len(targets):
        raise ConfigError(f"{where}.ways: {transfer['ways']} ways from {len(targets)} target classes")
    if spec.min_per_class is not None and transfer["shots"] > spec.min_per_class:
        raise ConfigError(
            f"{where}.shots: {transfer['shots']} shots, the smallest class of {spec.name} has {spec.min_per_class}"
        )


def _check_classes(classes: list[int], spec: DatasetSpec, where: str) -> None:
    outside = [k for k in classes if k >= spec.num_classes]
    if outside:
        raise ConfigError(f"{where}: {outside} are not classes of {spec.name} (0 .. {spec.num_classes - 1})")
